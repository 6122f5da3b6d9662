"""Requests-per-minute and tokens-per-minute per provider, enforced in Redis across every worker.

Moving windows from the `limits` library (async Redis storage), one pair per provider. A call first takes
one request and its token reservation (the digest's estimate plus the answer's maximum). When the window is
full the caller waits for room, up to `max_wait_s` in all; after that `QuotaExceeded` tells it how long to
wait, and the job is re-scheduled with that delay rather than dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

from autodevops.ratelimit import limits_storage_uri

# Re-check a full window at least this often while waiting (another worker may not use its reservation).
POLL_S = 0.25


class QuotaExceeded(Exception):
    """No room in the provider's per-minute quota within the allowed wait; retry after `retry_after_s`."""

    def __init__(self, provider: str, retry_after_s: float) -> None:
        super().__init__(f"{provider} quota exceeded; retry in {retry_after_s:.1f}s")
        self.provider = provider
        self.retry_after_s = retry_after_s


class QuotaManager:
    """Per-provider RPM/TPM shared by all workers through Redis (keys under `prefix`)."""

    def __init__(
        self,
        redis_url: str,
        *,
        prefix: str,
        requests_per_minute: dict[str, int],
        tokens_per_minute: dict[str, int],
        max_wait_s: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.storage = RedisStorage(limits_storage_uri(redis_url), implementation="redispy", key_prefix=prefix)
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.rpm = {p: RateLimitItemPerMinute(n) for p, n in requests_per_minute.items() if n > 0}
        self.tpm = {p: RateLimitItemPerMinute(n) for p, n in tokens_per_minute.items() if n > 0}
        self.max_wait_s = max_wait_s
        self.sleep = sleep

    async def _wait_s(self, item: RateLimitItem, provider: str, kind: str, cost: int) -> float | None:
        """None if `cost` was taken now; otherwise how long until the window may have room."""
        if await self.limiter.hit(item, "ai", kind, provider, cost=cost):
            return None
        stats = await self.limiter.get_window_stats(item, "ai", kind, provider)
        return max(0.05, stats.reset_time - time.time())

    async def acquire(self, provider: str, tokens: int) -> None:
        """Take one request and `tokens` of `provider`'s minute, waiting up to `max_wait_s`; else raise."""
        waited = 0.0
        for kind, items, cost in (("rpm", self.rpm, 1), ("tpm", self.tpm, tokens)):
            item = items.get(provider)
            if item is None:
                continue
            cost = min(cost, item.amount)  # one oversized call must still be able to run, alone in its minute
            while (wait := await self._wait_s(item, provider, kind, cost)) is not None:
                if waited + min(wait, POLL_S) > self.max_wait_s:
                    raise QuotaExceeded(provider, wait)
                step = min(wait, POLL_S)
                await self.sleep(step)
                waited += step

    async def close(self) -> None:
        """Nothing to release: the storage's connection pool closes with the process."""
        return None
