"""A separate process acting on a shared breaker: `python breaker_main.py PREFIX ACTION NOW`.

ACTION is `fail` (record one failure) or `acquire` (print `trial`, `closed` or `open`). NOW is the injected
clock's reading, so both processes see the same time.
"""

from __future__ import annotations

import asyncio
import sys

from redis.asyncio import Redis

from autodevops.ai.breaker import BreakerConfig, CircuitBreaker, Permit

CONFIG = BreakerConfig(failures=4, window_s=60, cooldown_s=30, trial_lease_s=10)


async def main(prefix: str, action: str, now: float, url: str) -> None:
    redis = Redis.from_url(url)
    breaker = CircuitBreaker(redis, prefix=prefix, provider="gemini", model="m", config=CONFIG, clock=lambda: now)
    if action == "fail":
        await breaker.failure(Permit(trial=False))
    else:
        permit = await breaker.acquire()
        print("open" if permit is None else ("trial" if permit.trial else "closed"), flush=True)
    await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]))
