"""API shapes of organizations and memberships."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from autodevops.auth.schemas import Email
from autodevops.models import Role
from autodevops.schemas import Input

# Printable, no control characters; surrounding whitespace trimmed.
OrganizationName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")
]


class OrganizationCreate(Input):
    name: OrganizationName


class OrganizationUpdate(Input):
    name: OrganizationName


class OrganizationRead(BaseModel):
    id: uuid.UUID
    name: str
    role: Role
    created_at: datetime
    updated_at: datetime


class MemberCreate(Input):
    """Add an existing user, named by id or by email (exactly one)."""

    user_id: uuid.UUID | None = None
    email: Email | None = None
    role: Role = "member"

    @model_validator(mode="after")
    def _one_identifier(self) -> Self:
        if (self.user_id is None) == (self.email is None):
            raise ValueError("give exactly one of user_id or email")
        return self


class MemberUpdate(Input):
    role: Role


class MemberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: uuid.UUID
    email: str
    name: str | None
    role: Role
    created_at: datetime
