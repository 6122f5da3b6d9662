"""Pruning the records of received webhook deliveries (GitHub and GitLab).

Those rows exist to recognise a delivery seen before (a redelivery, or a replayed capture), so they only need to
outlive the time in which a delivery can come again: GitHub redelivers up to 3 days back and GitLab retries
within hours. Kept forever they grow with every push. Rows older than `webhook_delivery_retention_days` (and
never younger than the GitHub replay window, whatever that is set to) are deleted in short batches, each its own
transaction, so the receivers inserting new rows never wait on a long delete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from autodevops.config import Settings
from autodevops.db import Database, tenant_session
from autodevops.logging import get_logger
from autodevops.models import GitHubWebhookDelivery, GitLabWebhookDelivery, utcnow

log = get_logger(__name__)

_TABLES: dict[str, type[GitHubWebhookDelivery] | type[GitLabWebhookDelivery]] = {
    "github": GitHubWebhookDelivery,
    "gitlab": GitLabWebhookDelivery,
}


@dataclass(frozen=True)
class PruneResult:
    cutoff: datetime
    deleted: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


def retention(settings: Settings) -> timedelta:
    """How long a delivery is remembered: the setting, stretched to the replay window if that is longer."""
    return max(
        timedelta(days=settings.webhook_delivery_retention_days),
        timedelta(seconds=settings.github_webhook_replay_window_s),
    )


async def prune_webhook_deliveries(
    database: Database, settings: Settings, *, now: datetime | None = None
) -> PruneResult:
    """Delete the deliveries received before `now - retention(settings)`; returns how many, per provider."""
    cutoff = (now or utcnow()) - retention(settings)
    batch = settings.webhook_delivery_prune_batch
    deleted: dict[str, int] = {}
    for provider, model in _TABLES.items():
        deleted[provider] = 0
        while True:
            oldest = (
                select(model.delivery_id)
                .where(model.received_at < cutoff)
                .order_by(model.received_at)
                .limit(batch)
                .with_for_update(skip_locked=True)  # two workers pruning at once split the rows, not wait
            )
            async with tenant_session(database) as session:
                result = await session.execute(delete(model).where(model.delivery_id.in_(oldest.scalar_subquery())))
            count = result.rowcount or 0  # type: ignore[attr-defined]
            deleted[provider] += count
            if count < batch:
                break
    if any(deleted.values()):
        log.info("webhook deliveries pruned", cutoff=cutoff.isoformat(), **deleted)
    return PruneResult(cutoff, deleted)
