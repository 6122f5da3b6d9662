"""API shapes of the GitHub integration."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from autodevops.auth.schemas import Input


class InstallationRead(BaseModel):
    id: int
    account_login: str
    account_type: str
    repository_selection: str


class GitHubRepositoryRead(BaseModel):
    id: int
    full_name: str
    private: bool
    default_branch: str


class GitHubRepositoryConnect(Input):
    organization_id: uuid.UUID
    installation_id: Annotated[int, Field(gt=0)]
    full_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]


class PullRequestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    repository_id: uuid.UUID
    pipeline_id: uuid.UUID | None
    number: int
    url: str
    head_branch: str
    head_sha: str
    state: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    merged_at: datetime | None


class WebhookAccepted(BaseModel):
    delivery: str
    outcome: str


class DriftFindingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    repository_id: uuid.UUID
    pipeline_id: uuid.UUID | None
    commit_sha: str
    differences: list[dict[str, str]]
    created_at: datetime
