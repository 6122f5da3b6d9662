"""API shapes of the GitLab integration."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from autodevops.gitlab.client import TOKEN_CHARACTERS
from autodevops.schemas import Input


def _token_characters(value: SecretStr) -> SecretStr:
    if not TOKEN_CHARACTERS.fullmatch(value.get_secret_value()):
        raise ValueError("a GitLab token is printable ASCII without spaces (as GitLab shows it)")
    return value


# A project, group or personal access token, or an OAuth token: GitLab's are 20-100 printable characters.
AccessToken = Annotated[
    SecretStr,
    Field(min_length=8, max_length=255, json_schema_extra={"pattern": "^[\\x21-\\x7e]*$"}),
    AfterValidator(_token_characters),
]
ProjectRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class GitLabProjectSearch(Input):
    """The token travels in the body, never in a URL (URLs end up in logs)."""

    token: AccessToken
    search: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    page: Annotated[int, Field(ge=1, le=10_000)] = 1


class GitLabProjectRead(BaseModel):
    id: int
    path_with_namespace: str
    name: str
    visibility: str
    default_branch: str | None
    web_url: str | None


class GitLabProjectPage(BaseModel):
    items: list[GitLabProjectRead]
    next_page: int | None


class GitLabProjectConnect(Input):
    organization_id: uuid.UUID
    # The project's numeric id or its path (`group/subgroup/project`).
    project: ProjectRef
    token: AccessToken


class GitLabConnectionRead(BaseModel):
    repository_id: uuid.UUID
    project_id: int
    full_path: str
    instance_url: str
    webhook_registered: bool
    # Why the webhook could not be registered (e.g. the token lacks the Maintainer role), when it was not.
    webhook_problem: str | None = None
    previous_webhook_secret_until: datetime | None = None


class MergeRequestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    repository_id: uuid.UUID
    pipeline_id: uuid.UUID | None
    iid: int
    url: str
    source_branch: str
    head_sha: str
    state: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    merged_at: datetime | None


class GitLabWebhookAccepted(BaseModel):
    delivery: str
    outcome: str
