"""API shapes of analyses."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class AnalysisRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID
    repository_id: uuid.UUID
    status: Literal["pending", "running", "succeeded", "failed"]
    ref: str | None
    commit_sha: str | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class AnalysisDetail(AnalysisRead):
    result: dict[str, Any] | None
