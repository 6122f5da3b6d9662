"""A job's timeout is a hard deadline: it holds even when the job's code does not answer to cancellation."""

from __future__ import annotations

import asyncio
import random

import psutil
import pytest

from autodevops.jobs.service import JobsRuntime

from .conftest import Jobs, Workers


async def test_a_cancellation_during_publish_is_never_lost(runtime: JobsRuntime) -> None:
    # redis-py turns a cancellation that lands while it reads a reply into a ConnectionError, or drops it:
    # before the fix, 16 of these 40 were lost and the "cancelled" publisher went on.
    bus = runtime.bus
    rng = random.Random(14)
    lost = 0
    for _ in range(40):

        async def publish_forever() -> None:
            while True:
                await bus.publish("cancel-probe", "analyzing", percent=1)

        publisher = asyncio.create_task(publish_forever())
        await asyncio.sleep(rng.uniform(0.001, 0.02))
        publisher.cancel()
        done, _ = await asyncio.wait({publisher}, timeout=2.0)
        if not done or not publisher.cancelled():
            lost += 1
            publisher.cancel()
            await asyncio.wait({publisher}, timeout=2.0)
    await bus.client.delete(f"{bus.prefix}:job-events:cancel-probe")
    assert lost == 0


def _processes_of(job_id: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if job_id in (process.info["cmdline"] or []):
            found.append(process)
    return found


@pytest.mark.slow
async def test_a_handler_that_swallows_its_cancellation_still_times_out_and_its_subprocess_dies(
    jobs: Jobs, workers: Workers
) -> None:
    workers.start("analysis")
    stubborn = await jobs.enqueue("testing.stubborn", "analysis", max_attempts=1)

    job = await jobs.wait_state(stubborn, "dead_letter")
    assert job.last_error == "timed out after 0.3s (attempt 1 of 1)"
    # Its work was not committed as a late success, and the subprocess it waited on was killed.
    assert await jobs.effects(stubborn) == []
    assert _processes_of(str(stubborn)) == []
    # The slot is free again.
    after = await jobs.enqueue("testing.record", "analysis")
    assert (await jobs.wait_state(after, "completed")).attempts == 1
