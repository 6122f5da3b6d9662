"""Jobs of the GitLab integration, queued by webhooks: CI drift after a push to the default branch."""

from __future__ import annotations

import uuid

from autodevops.config import get_settings
from autodevops.crypto import Keyring
from autodevops.gitlab import service
from autodevops.jobs.queues import SYNC
from autodevops.jobs.registry import JobContext, task


@task(service.CHECK_DRIFT, queue=SYNC.name)
async def check_drift(ctx: JobContext) -> None:
    settings = get_settings()
    await service.check_drift(
        ctx.session,
        Keyring.from_settings(settings),
        settings,
        uuid.UUID(str(ctx.payload["repository_id"])),
        str(ctx.payload["commit_sha"]),
    )
