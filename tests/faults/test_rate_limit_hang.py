"""Rate limiting with a hung Redis (SIGSTOP, on a server of the test's own): the limits are not enforced, and
only the first request pays the Redis bound, not every request (and every limit of a request) again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from autodevops.ratelimit import RateLimiter
from platform_support import platform_settings
from throwaway_services import ThrowawayRedis

BOUND_S = 0.5


@pytest.fixture
def hung_redis(tmp_path: Path) -> Iterator[ThrowawayRedis]:
    server = ThrowawayRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


async def test_a_hung_redis_costs_one_request_its_bound_then_limits_are_skipped(hung_redis: ThrowawayRedis) -> None:
    settings = platform_settings(redis_url=hung_redis.url(), rate_limit_enabled=True, redis_timeout_s=BOUND_S)
    limiter = RateLimiter(settings)
    assert await limiter.hit("ip", "203.0.113.7") is not None  # counted while Redis answers
    hung_redis.pause()
    try:
        started = time.monotonic()
        assert await limiter.hit("ip", "203.0.113.7") is None  # not enforced: Redis did not answer in time
        first = time.monotonic() - started
        started = time.monotonic()
        assert await limiter.hit("user", "someone") is None
        second = time.monotonic() - started
    finally:
        hung_redis.resume()
        await limiter.storage.bridge.get_connection().aclose()
    assert first < 5 * BOUND_S  # bounded: before, a hung Redis held a request for its 5 s socket timeout, per call
    assert second < BOUND_S / 5  # and the next check does not wait on Redis at all
