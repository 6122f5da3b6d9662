"""Rate limiting on Redis with the `limits` library (async storage, moving window).

Two limits apply to every limited route: one per client IP (always; it also bounds credential guessing) and
one per user when the request is authenticated. Limits come from settings (`AUTODEVOPS_RATE_LIMIT_PER_IP`,
`AUTODEVOPS_RATE_LIMIT_PER_USER`, in the `limits` notation: "120/minute", "10 per second"...).

Responses of limited routes carry `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`
(epoch seconds) for the tightest limit; a refused request is a 429 with `Retry-After` as well.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Depends, Request, Response
from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

from autodevops.config import Settings
from autodevops.errors import RateLimited


def limits_storage_uri(redis_url: str) -> str:
    """The `limits` async storage URI for a redis-py URL (`redis://…` → `async+redis://…`)."""
    return redis_url if redis_url.startswith("async+") else "async+" + redis_url


@dataclass(frozen=True)
class LimitState:
    """Where a client stands against one limit after a hit."""

    item: RateLimitItem
    allowed: bool
    remaining: int
    reset_at: float

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.item.amount),
            "X-RateLimit-Remaining": str(max(self.remaining, 0)),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(self.reset_at - time.time())))
        return headers


class RateLimiter:
    """Moving-window limits per IP and per user, stored in Redis under `key_prefix`."""

    def __init__(self, settings: Settings) -> None:
        self.storage = RedisStorage(
            limits_storage_uri(settings.redis_url),
            implementation="redispy",
            key_prefix=settings.rate_limit_key_prefix,
        )
        self.strategy = MovingWindowRateLimiter(self.storage)
        self.per_ip = parse(settings.rate_limit_per_ip)
        self.per_user = parse(settings.rate_limit_per_user)
        self.enabled = settings.rate_limit_enabled

    async def _hit(self, item: RateLimitItem, *identifiers: str) -> LimitState:
        allowed = await self.strategy.hit(item, *identifiers)
        stats = await self.strategy.get_window_stats(item, *identifiers)
        return LimitState(item=item, allowed=allowed, remaining=stats.remaining, reset_at=stats.reset_time)

    async def check(self, *, ip: str, user_id: str | None) -> LimitState | None:
        """Count one request; raise `RateLimited` when a limit is exceeded, else return the tightest state."""
        if not self.enabled:
            return None
        states = [await self._hit(self.per_ip, "ip", ip)]
        if states[0].allowed and user_id is not None:
            states.append(await self._hit(self.per_user, "user", user_id))
        refused = next((state for state in states if not state.allowed), None)
        if refused is not None:
            headers = refused.headers()
            raise RateLimited(
                "Too many requests; retry later.",
                retry_after=int(headers["Retry-After"]),
                detail=f"limit of {refused.item} exceeded",
                headers=headers,
            )
        return min(states, key=lambda state: state.remaining)


Principal = Callable[..., Awaitable[str | None]]


async def _no_principal() -> str | None:
    return None


def rate_limit_dependency(principal: Principal = _no_principal) -> Callable[..., Awaitable[None]]:
    """A route dependency enforcing the limits; `principal` is a dependency giving the user id (or None).

    Used as a router-level dependency of the API, so the limit is counted before the route runs.
    """

    # `Depends` as a default, not inside `Annotated`: annotations are strings here (PEP 563) and FastAPI
    # resolves them from module globals, where the closure's `principal` does not exist.
    async def enforce_rate_limit(
        request: Request,
        response: Response,
        user_id: str | None = Depends(principal),
    ) -> None:
        limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
        if limiter is None:
            return
        client = request.client
        state = await limiter.check(ip=client.host if client else "unknown", user_id=user_id)
        if state is not None:
            response.headers.update(state.headers())

    return enforce_rate_limit
