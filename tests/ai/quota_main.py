"""A worker process taking quota: `python quota_main.py PREFIX REDIS_URL TRIES` prints how many calls got room."""

from __future__ import annotations

import asyncio
import sys

from autodevops.ai.quota import QuotaExceeded, QuotaManager


async def main(prefix: str, url: str, tries: int) -> None:
    quota = QuotaManager(
        url, prefix=f"{prefix}:quota", requests_per_minute={"gemini": 4}, tokens_per_minute={}, max_wait_s=0.0
    )
    granted = 0
    for _ in range(tries):
        try:
            await quota.acquire("gemini", 100)
        except QuotaExceeded:
            continue
        granted += 1
    print(granted, flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
