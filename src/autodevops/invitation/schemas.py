"""API shapes of invitations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from autodevops.auth.schemas import Email
from autodevops.models import Role
from autodevops.schemas import Input

# `adi_` + 43 URL-safe characters: what an invitation link carries.
InvitationToken = Annotated[str, StringConstraints(pattern=r"^adi_[A-Za-z0-9_-]{43}$")]


class InvitationCreate(Input):
    """Invite an email address (whether or not it has an account yet)."""

    email: Email
    role: Role = "member"


class InvitationAccept(Input):
    """Accept by the invitation link's token."""

    token: InvitationToken


class InvitationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID
    organization_name: str
    email: str
    role: Role
    created_at: datetime
    expires_at: datetime


class InvitationCreated(InvitationRead):
    """The new invitation and its link, shown once: send it to the person invited."""

    accept_url: str
