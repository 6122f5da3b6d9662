"""Job metrics: what the worker counts (failures, retries, dead letters, durations) and queue depth."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from .conftest import JOBS_SETTINGS, Jobs, Workers, eventually

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_worker_counts_failures_retries_dead_letters_and_durations(jobs: Jobs, workers: Workers) -> None:
    port = _free_port()
    workers.start("analysis", metrics_port=port)
    job_id = await jobs.enqueue("testing.fail_until_switched", "analysis")
    await jobs.wait_state(job_id, "dead_letter")
    done = await jobs.enqueue("testing.record", "analysis")
    await jobs.wait_state(done, "completed")

    async with httpx.AsyncClient() as client:
        scraped: dict[str, str] = {}

        async def scrape() -> bool:
            try:
                scraped["text"] = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
            except httpx.TransportError:
                return False
            return True

        await eventually(scrape, what="the worker's metrics endpoint")
    samples = _samples(scraped["text"])
    q = (("queue", "analysis"),)
    assert samples[("autodevops_jobs_failures_total", q)] == 3
    assert samples[("autodevops_jobs_retries_total", q)] == 2
    assert samples[("autodevops_jobs_dead_letters_total", q)] == 1
    assert samples[("autodevops_jobs_duration_seconds_count", (("outcome", "completed"), *q))] == 1
    assert samples[("autodevops_jobs_duration_seconds_count", (("outcome", "retry"), *q))] == 2
    assert samples[("autodevops_jobs_start_latency_seconds_count", q)] == 4
    assert samples[("autodevops_jobs_dead_letter_size", q)] == 1
    assert samples[("autodevops_jobs_queue_depth", (("queue", "analysis"), ("state", "failed")))] == 1


async def test_api_metrics_show_queue_depth_per_queue_and_state(make_api_client: Any, jobs: Jobs) -> None:
    client: httpx.AsyncClient = await make_api_client(**JOBS_SETTINGS)
    await jobs.enqueue("testing.record", "sync")
    await jobs.enqueue("testing.record", "sync")
    samples = _samples((await client.get("/metrics")).text)
    assert samples[("autodevops_jobs_queue_depth", (("queue", "sync"), ("state", "prioritized")))] == 2
    assert samples[("autodevops_jobs_queue_depth", (("queue", "analysis"), ("state", "prioritized")))] == 0
