"""API shapes of jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

JobState = Literal["pending", "active", "completed", "failed", "dead_letter"]


class JobRead(BaseModel):
    """A job as its organization's members see it. `payload` holds ids only."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID
    queue: str
    name: str
    state: JobState
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    last_error: str | None
    correlation_id: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class DeadLetterResult(BaseModel):
    """How many dead letters a bulk requeue or purge affected."""

    count: int
