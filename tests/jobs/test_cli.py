"""`autodevops dlq ...` and `autodevops worker` as an operator runs them (real processes, real services)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from autodevops.config import Settings

from .conftest import Jobs, Workers, worker_env

pytestmark = pytest.mark.slow


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from autodevops.cli import main; main()", *args],
        env=worker_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_dlq_commands_list_show_requeue_and_purge(settings: Settings, jobs: Jobs, workers: Workers) -> None:
    workers.start("analysis")
    kept = await jobs.enqueue("testing.fail_until_switched", "analysis", max_attempts=1)
    dropped = await jobs.enqueue("testing.fail_until_switched", "analysis", max_attempts=1)
    await jobs.wait_state(kept, "dead_letter")
    await jobs.wait_state(dropped, "dead_letter")

    listed = await asyncio.to_thread(_cli, settings, "dlq", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {d["id"] for d in json.loads(listed.stdout)} == {str(kept), str(dropped)}

    shown = await asyncio.to_thread(_cli, settings, "dlq", "show", str(kept))
    letter = json.loads(shown.stdout)
    assert (letter["last_error"], letter["attempts"], letter["organization_id"]) == (
        "RuntimeError: boom on attempt 1",
        1,
        str(jobs.org),
    )

    purged = await asyncio.to_thread(_cli, settings, "dlq", "purge", str(dropped))
    assert purged.stdout.strip() == "purged 1 job(s)"

    await jobs.switch_on(kept)
    requeued = await asyncio.to_thread(_cli, settings, "dlq", "requeue", "--all")
    assert requeued.stdout.strip() == "requeued 1 job(s)"
    assert (await jobs.wait_state(kept, "completed")).attempts == 1

    empty = await asyncio.to_thread(_cli, settings, "dlq", "list")
    assert empty.stdout.strip() == "the dead-letter queue is empty"
    missing = await asyncio.to_thread(_cli, settings, "dlq", "show", str(dropped))
    assert missing.returncode == 1


async def test_worker_refuses_an_unknown_queue(settings: Settings) -> None:
    result = await asyncio.to_thread(_cli, settings, "worker", "--queues", "analysis,nope")
    assert result.returncode == 2
    assert "unknown queue(s) nope" in result.stderr
