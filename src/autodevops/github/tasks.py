"""Jobs of the GitHub integration, queued by webhooks: installation sync, pull request outcomes, CI drift."""

from __future__ import annotations

import uuid

from autodevops.config import get_settings
from autodevops.github import service
from autodevops.github.client import GitHubClient
from autodevops.jobs.queues import SYNC
from autodevops.jobs.registry import JobContext, task


@task(service.SYNC_INSTALLATION, queue=SYNC.name)
async def sync_installation(ctx: JobContext) -> None:
    await service.sync_installation(
        ctx.session,
        GitHubClient(get_settings()),
        ctx.organization_id,
        int(ctx.payload["installation_id"]),
        str(ctx.payload.get("action", "")),
    )


@task(service.RECORD_PULL_REQUEST, queue=SYNC.name)
async def record_pull_request(ctx: JobContext) -> None:
    await service.record_pull_request_outcome(
        ctx.session,
        uuid.UUID(str(ctx.payload["pull_request_id"])),
        merged=bool(ctx.payload.get("merged")),
        at=ctx.payload.get("at"),
    )


@task(service.CHECK_DRIFT, queue=SYNC.name)
async def check_drift(ctx: JobContext) -> None:
    await service.check_drift(
        ctx.session,
        GitHubClient(get_settings()),
        uuid.UUID(str(ctx.payload["repository_id"])),
        str(ctx.payload["commit_sha"]),
    )
