"""API shapes of repositories."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from autodevops.schemas import CONTROL, Input

# A branch name, conservatively: what `git check-ref-format --branch` accepts, minus a few exotic forms.
_BRANCH_RE = re.compile(r"^(?![/-])(?!.*\.\.)(?!.*//)(?!.*@\{)[^\s~^:?*\[\\\x00-\x1f\x7f]+(?<![/.])$")


def _branch(value: str) -> str:
    if not _BRANCH_RE.match(value) or value.endswith(".lock") or value == "@":
        raise ValueError("not a valid branch name")
    return value


# `_branch` as a JSON Schema pattern (the value is trimmed first), for the OpenAPI document.
BRANCH_PATTERN = (
    r"^\s*(?![/-])(?!\S*\.\.)(?!\S*//)(?!\S*@\{)(?!@\s*$)(?!\S*\.lock\s*$)"
    f"[^\\s~^:?*\\[\\\\{CONTROL}]+(?<![/.])\\s*$"
)

BranchName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255),
    AfterValidator(_branch),
    Field(
        description="A git branch name as `git check-ref-format --branch` accepts it (no spaces, `..`, `~^:?*[\\`).",
        json_schema_extra={"pattern": BRANCH_PATTERN},
    ),
]


class RepositoryCreate(Input):
    organization_id: uuid.UUID
    url: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    default_branch: BranchName | None = None


class RepositoryUpdate(Input):
    default_branch: BranchName


class RepositoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    source: Literal["github", "gitlab", "git"]
    clone_url: str
    github_full_name: str | None
    default_branch: str | None
    # Set by the last metadata sync; null until the repository was synced once.
    visibility: Literal["public", "private", "internal"] | None
    latest_commit_sha: str | None
    synced_at: datetime | None
    created_at: datetime
    updated_at: datetime
