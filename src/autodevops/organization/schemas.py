"""API shapes of organizations and memberships."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from autodevops.models import Role
from autodevops.schemas import CONTROL, Input

# Printable, no control characters; surrounding whitespace trimmed. The document's pattern says the same of
# the untrimmed value (with `Input`'s rule: nor C1 controls or surrogates).
OrganizationName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$"),
    Field(json_schema_extra={"pattern": f"^\\s*[^\\s{CONTROL}](?:[^{CONTROL}]*[^\\s{CONTROL}])?\\s*$"}),
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


class MemberUpdate(Input):
    role: Role


class MemberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: uuid.UUID
    email: str
    name: str | None
    role: Role
    created_at: datetime


class LimitUseRead(BaseModel):
    limit: str = Field(
        description="repositories, analyses_per_day, ai_tokens_per_month, concurrent_jobs, api_requests_per_minute"
    )
    allowed: int = Field(description="What the plan allows.")
    used: int = Field(description="How much is used now (API requests: in the current moving minute).")
    resets_at: datetime | None = Field(description="When the use next goes back down by itself, if it does.")
    resets: str = Field(description="How this limit comes back, in words.")


class UsageRead(BaseModel):
    organization_id: uuid.UUID
    plan: str
    limits: list[LimitUseRead]
