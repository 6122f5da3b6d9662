"""API shapes of users and tokens."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from autodevops.schemas import CONTROL
from autodevops.schemas import Input as Input  # re-exported: request bodies of every domain derive from it

_EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s.\x00-\x1f\x7f]+$")


def normalize_email(value: str) -> str:
    """Trimmed and lower-cased; a plausible address (one @, a dot in the domain), at most 320 characters."""
    email = value.strip().lower()
    if len(email) > 320 or not _EMAIL_RE.match(email):
        raise ValueError("not a valid email address")
    return email


# `_EMAIL_RE` after trimming, for the OpenAPI document.
EMAIL_PATTERN = f"^\\s*[^@\\s{CONTROL}]+@[^@\\s{CONTROL}]+\\.[^@\\s.{CONTROL}]+\\s*$"

Email = Annotated[
    str,
    AfterValidator(normalize_email),
    Field(
        description="An email address (one @, a dot in the domain), at most 320 characters; case-insensitive.",
        max_length=320,
        json_schema_extra={"pattern": EMAIL_PATTERN},
    ),
]
TokenName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    name: str | None
    is_admin: bool
    created_at: datetime


class TokenCreate(Input):
    name: TokenName
    expires_in_days: int | None = Field(default=None, ge=1, le=3650, description="Omit for no expiry.")


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="The secret. Shown only in this response; store it now.")
