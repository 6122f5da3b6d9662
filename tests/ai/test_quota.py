"""Per-provider quotas shared by workers through Redis: requests and tokens per minute."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from redis.asyncio import Redis

from ai.conftest import AI_REDIS_URL
from autodevops.ai.quota import QuotaExceeded, QuotaManager


def worker(prefix: str, *, rpm: int = 3, tpm: int = 10_000, max_wait_s: float = 0.0) -> QuotaManager:
    """One worker's quota manager: its own Redis connections, the same keys as every other worker."""
    return QuotaManager(
        AI_REDIS_URL,
        prefix=f"{prefix}:quota",
        requests_per_minute={"gemini": rpm},
        tokens_per_minute={"gemini": tpm},
        max_wait_s=max_wait_s,
    )


async def test_requests_per_minute_are_shared_by_two_workers(ai_redis: Redis, ai_prefix: str) -> None:
    first, second = worker(ai_prefix), worker(ai_prefix)
    await first.acquire("gemini", 10)
    await second.acquire("gemini", 10)
    await first.acquire("gemini", 10)
    with pytest.raises(QuotaExceeded) as info:
        await second.acquire("gemini", 10)
    assert 0 < info.value.retry_after_s <= 60
    await second.acquire("openai", 10)  # another provider has its own quota (none configured here)


async def test_tokens_per_minute_are_shared_by_two_workers(ai_redis: Redis, ai_prefix: str) -> None:
    first, second = worker(ai_prefix, rpm=100, tpm=1000), worker(ai_prefix, rpm=100, tpm=1000)
    await first.acquire("gemini", 600)
    with pytest.raises(QuotaExceeded):
        await second.acquire("gemini", 600)
    await second.acquire("gemini", 400)


async def test_over_quota_waits_briefly_before_giving_up(ai_redis: Redis, ai_prefix: str) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    quota = worker(ai_prefix, rpm=1, max_wait_s=1.0)
    quota.sleep = sleep
    await quota.acquire("gemini", 1)
    with pytest.raises(QuotaExceeded):
        await quota.acquire("gemini", 1)
    assert slept
    assert sum(slept) <= 1.0


def test_two_worker_processes_share_one_quota(ai_redis: Redis, ai_prefix: str) -> None:
    script = Path(__file__).with_name("quota_main.py")
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), ai_prefix, AI_REDIS_URL, "3"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=script.parent.parent,
        )
        for _ in range(2)
    ]
    granted = [int(p.communicate(timeout=60)[0]) for p in procs]
    assert sum(granted) == 4  # 6 attempts against 4 requests per minute, whichever process made them
