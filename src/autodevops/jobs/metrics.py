"""Job metrics, in the platform's registry (`autodevops.metrics.REGISTRY`).

Counters and histograms are updated by the worker process that runs the jobs (it serves them on its own
`--metrics-port`); queue depth and dead-letter size are read from the queue Redis at scrape time by whichever
process registered `QueueDepthCollector` (the API and the worker both do), so they are never stale.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from autodevops.logging import get_logger
from autodevops.metrics import REGISTRY

log = get_logger(__name__)

_DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

JOB_DURATION = Histogram(
    "autodevops_jobs_duration_seconds",
    "Run time of one job attempt, by queue and outcome (completed, retry, dead_letter, released).",
    ["queue", "outcome"],
    buckets=_DURATION_BUCKETS,
    registry=REGISTRY,
)
JOB_START_LATENCY = Histogram(
    "autodevops_jobs_start_latency_seconds",
    "Time from a job becoming runnable (enqueue or retry due) to a worker starting it, by queue.",
    ["queue"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600),
    registry=REGISTRY,
)
JOB_FAILURES = Counter(
    "autodevops_jobs_failures_total",
    "Failed job attempts (errors and timeouts), by queue.",
    ["queue"],
    registry=REGISTRY,
)
JOB_RETRIES = Counter(
    "autodevops_jobs_retries_total", "Retries scheduled after a failed attempt, by queue.", ["queue"], registry=REGISTRY
)
JOB_DEAD_LETTERS = Counter(
    "autodevops_jobs_dead_letters_total", "Jobs moved to the dead-letter queue, by queue.", ["queue"], registry=REGISTRY
)
JOB_TIMEOUTS = Counter(
    "autodevops_jobs_timeouts_total", "Job attempts cancelled at their timeout, by queue.", ["queue"], registry=REGISTRY
)
RECONCILED = Counter(
    "autodevops_jobs_reconciled_total",
    "Jobs the reconciler re-enqueued because Redis had lost them.",
    registry=REGISTRY,
)


class QueueDepthCollector(Collector):
    """Reads queue depth per queue and state, and the dead-letter queue size, from Redis at scrape time."""

    def __init__(self) -> None:
        self._redis_url: str | None = None
        self._prefix = ""

    def bind(self, redis_url: str | None, prefix: str = "") -> None:
        """Report the queues on `redis_url` under `prefix`; `None` stops reporting."""
        self._redis_url = redis_url
        self._prefix = prefix

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        if self._redis_url is None:
            return
        from autodevops.jobs.broker import sync_counts

        try:
            counts = sync_counts(self._redis_url, self._prefix)
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail because Redis is briefly away
            log.warning("queue depth unavailable", error=type(exc).__name__)
            return
        depth = GaugeMetricFamily(
            "autodevops_jobs_queue_depth", "Jobs in each queue by state (bullmq's view).", labels=["queue", "state"]
        )
        dlq = GaugeMetricFamily(
            "autodevops_jobs_dead_letter_size", "Jobs in the dead-letter queue, by queue.", labels=["queue"]
        )
        for queue, by_state in counts.items():
            for state, value in by_state.items():
                depth.add_metric([queue, state], float(value))
            dlq.add_metric([queue], float(by_state.get("failed", 0)))
        yield depth
        yield dlq


QUEUE_DEPTH = QueueDepthCollector()
REGISTRY.register(QUEUE_DEPTH)
