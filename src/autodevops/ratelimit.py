"""Rate limiting on Redis with the `limits` library (async storage, moving window).

Two limits apply to every limited route: one per client IP (always; it also bounds credential guessing) and one per
user when the request is authenticated. A JSON API request about one organization (its id, or the id of one of its
repositories, analyses, pipelines or jobs, in the path; an `organization_id` query filter; or the `organization_id`
of a JSON body) also counts against that organization's plan (`api_requests_per_minute`), shared by all its members
and tokens. GitHub webhooks have a per-IP limit of their own (`AUTODEVOPS_RATE_LIMIT_WEBHOOKS_PER_IP`), counted
before the signature is looked at. Limits come from settings (`AUTODEVOPS_RATE_LIMIT_PER_IP`,
`AUTODEVOPS_RATE_LIMIT_PER_USER`, in the `limits` notation: "120/minute", "10 per second"...) and plans.

Responses of limited routes carry `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch
seconds) for the tightest limit (added by `RateLimitHeadersMiddleware`, whatever the route returned); a refused
request is a 429 with `Retry-After` as well. When Redis is unreachable (or does not answer within
`AUTODEVOPS_REDIS_TIMEOUT_S`, reconnects included) the limits are not enforced (logged), rather than failing every
request.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from fastapi import Depends, Request
from limits import RateLimitItem, RateLimitItemPerMinute, parse
from limits.aio.storage import RedisStorage
from limits.aio.storage.redis.redispy import RedispyBridge
from limits.aio.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from autodevops.config import Settings
from autodevops.errors import RateLimited
from autodevops.logging import get_logger
from autodevops.redis_clients import bounded

log = get_logger(__name__)


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


# One round trip per limit: the moving-window acquisition of `limits` (its `acquire_moving_window` script,
# same key and list layout: newest timestamp first, trimmed to the limit) followed by its window statistics
# (`moving_window`: how many entries are still in the window, and the oldest of them), in a single script.
# Returns {allowed (0/1), entries in the window, oldest entry's timestamp as a string (Lua numbers are
# truncated to integers on the way out)}.
ACQUIRE_AND_COUNT = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local expiry = tonumber(ARGV[3])
local start = now - expiry

local allowed = 0
local entry = redis.call('lindex', key, limit - 1)
if not (entry and tonumber(entry) >= start) then
    redis.call('lpush', key, ARGV[1])
    redis.call('ltrim', key, 0, limit - 1)
    redis.call('expire', key, expiry)
    allowed = 1
end

-- Entries are newest first: binary search for the last one still inside the window.
local low, high, found = 0, math.min(redis.call('llen', key), limit) - 1, -1
while low <= high do
    local mid = math.floor((low + high) / 2)
    local value = tonumber(redis.call('lindex', key, mid))
    if value and value >= start then
        found = mid
        low = mid + 1
    else
        high = mid - 1
    end
end
if found < 0 then
    return {allowed, 0, ''}
end
return {allowed, found + 1, redis.call('lindex', key, found)}
"""


# After Redis fails a rate-limit check, limits are not enforced for this long (then Redis is tried again).
SKIP_AFTER_FAILURE_S = 5.0


class RateLimiter:
    """Moving-window limits per IP and per user, stored in Redis under `key_prefix`."""

    def __init__(self, settings: Settings, *, connection_pool: Any = None) -> None:
        # `connection_pool`: share the app's Redis pool (one set of connections, closed with the app's client).
        options: dict[str, Any] = {} if connection_pool is None else {"connection_pool": connection_pool}
        self.storage = RedisStorage(
            limits_storage_uri(settings.redis_url),
            implementation="redispy",
            key_prefix=settings.rate_limit_key_prefix,
            **options,
        )
        self.strategy = MovingWindowRateLimiter(self.storage)
        bridge = cast(RedispyBridge, self.storage.bridge)
        self._acquire = bridge.get_connection().register_script(ACQUIRE_AND_COUNT.encode())
        self.items = {
            "ip": parse(settings.rate_limit_per_ip),
            "user": parse(settings.rate_limit_per_user),
            "webhook": parse(settings.rate_limit_webhooks_per_ip),
        }
        self.enabled = settings.rate_limit_enabled
        self.timeout_s = settings.redis_timeout_s
        self._skip_until = 0.0

    async def _hit(self, item: RateLimitItem, *identifiers: str) -> LimitState:
        # Equivalent to `strategy.hit(...)` then `strategy.get_window_stats(...)`, in one round trip.
        key = self.storage.bridge.prefixed_key(item.key_for(*identifiers))
        now = time.time()
        expiry = item.get_expiry()
        allowed, count, oldest = await self._acquire([key], [repr(now), item.amount, expiry])
        reset_at = (float(oldest) if count else now) + expiry
        return LimitState(item=item, allowed=bool(allowed), remaining=item.amount - int(count), reset_at=reset_at)

    async def hit(self, kind: str, identifier: str) -> LimitState | None:
        """Count one request of `identifier` against the `kind` ("ip", "user" or "webhook") limit.

        Raises `RateLimited` (429 with `Retry-After` and `X-RateLimit-*`) when the limit is exceeded;
        returns where the caller stands otherwise, or None when rate limiting is switched off.
        """
        item = self.items[kind]
        state = await self._checked(item, kind, identifier)
        if state is not None and not state.allowed:
            headers = state.headers()
            raise RateLimited(
                "Too many requests; retry later.",
                retry_after=int(headers["Retry-After"]),
                detail=f"{kind} limit of {item} exceeded",
                headers=headers,
            )
        return state

    async def hit_plan(self, organization_id: str, plan: str, per_minute: int) -> LimitState | None:
        """Count one request against the organization's plan limit (`per_minute` in a moving minute).

        Over it: `RateLimited` whose detail names the limit, the plan, what it allows and when to retry.
        """
        item = RateLimitItemPerMinute(per_minute)
        state = await self._checked(item, "organization", organization_id)
        if state is not None and not state.allowed:
            headers = state.headers()
            retry_after = int(headers["Retry-After"])
            raise RateLimited(
                f"The {plan} plan allows {per_minute} API requests a minute for this organization; retry after "
                f"{retry_after} s.",
                retry_after=retry_after,
                detail={
                    "message": f"api_requests_per_minute: {per_minute} used; retry after {retry_after} s",
                    "limit": "api_requests_per_minute",
                    "plan": plan,
                    "allowed": per_minute,
                    "organization_id": organization_id,
                    "retry_after": retry_after,
                },
                headers=headers,
            )
        return state

    async def plan_window(self, organization_id: str, per_minute: int) -> tuple[int, float] | None:
        """(requests in the organization's current moving minute, when the oldest leaves it), without counting
        one; None when limits are off or Redis does not answer."""
        if not self.enabled:
            return None
        item = RateLimitItemPerMinute(per_minute)
        try:
            stats = await bounded(self.strategy.get_window_stats(item, "organization", organization_id), self.timeout_s)
        except RedisError:
            return None
        return per_minute - stats.remaining, stats.reset_time

    async def _checked(self, item: RateLimitItem, kind: str, identifier: str) -> LimitState | None:
        """One hit of `identifier` against `item`; None when limits are off or Redis is failing (fail open)."""
        if not self.enabled:
            return None
        if time.monotonic() < self._skip_until:
            return None  # Redis failed a moment ago: do not make every request wait for it again
        try:
            state = await bounded(self._hit(item, kind, identifier), self.timeout_s)
        except RedisError as error:
            # Fail open: an unreachable Redis must not take the API down with it; /ready reports the outage.
            # For the next few seconds requests skip it, so a hung Redis costs one request its bound, not
            # every request (and every limit of a request) the same bound again.
            self._skip_until = time.monotonic() + SKIP_AFTER_FAILURE_S
            log.warning("rate limit not enforced: redis unavailable", error=type(error).__name__, limit=kind)
            return None
        return state


# Where the tightest limit a request was counted against is kept for `RateLimitHeadersMiddleware`.
STATE_KEY = "rate_limit"


def _report(request: Request, state: LimitState | None) -> None:
    """Keep the tightest limit seen so far for this request; the middleware advertises it in the response."""
    if state is None:
        return
    previous: LimitState | None = getattr(request.state, STATE_KEY, None)
    if previous is None or state.remaining < previous.remaining:
        setattr(request.state, STATE_KEY, state)


class RateLimitHeadersMiddleware:
    """Adds `X-RateLimit-*` for the tightest limit the request was counted against, whatever the route
    returned: a route that answers with a ready `Response` (the paginated listings) drops the headers a
    dependency sets. A response that already carries them (a 429, with its own) keeps its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})  # shared with every Request of this scope

        async def send_with_limits(message: Message) -> None:
            limit: LimitState | None = state.get(STATE_KEY)
            if message["type"] == "http.response.start" and limit is not None:
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-ratelimit-limit" for name, _ in headers):
                    headers += [(k.lower().encode(), v.encode()) for k, v in limit.headers().items()]
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_limits)


def _limiter(request: Request) -> RateLimiter | None:
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    return limiter


async def limit_by_ip(request: Request) -> None:
    """Route dependency: count the request against the client IP's limit. Runs before authentication, so
    credential guessing is limited too. Behind a proxy the IP is the forwarded one only for trusted proxies."""
    await _hit_ip(request, "ip")


async def limit_webhooks_by_ip(request: Request) -> None:
    """Route dependency of the webhook receiver: its own per-IP limit, counted before the signature."""
    await _hit_ip(request, "webhook")


async def _hit_ip(request: Request, kind: str) -> None:
    limiter = _limiter(request)
    if limiter is not None:
        client = request.client
        _report(request, await limiter.hit(kind, client.host if client else "unknown"))


Principal = Callable[..., Awaitable[str | None]]


def limit_by_user(principal: Principal) -> Callable[..., Awaitable[None]]:
    """A route dependency counting the request against its user's limit.

    `principal` is a dependency returning the authenticated user's id (None for anonymous requests, which
    only the IP limit covers). List it after `limit_by_ip` so the IP limit is counted first.
    """

    # `Depends` as a default, not inside `Annotated`: annotations are strings here (PEP 563) and FastAPI
    # resolves them from module globals, where the closure's `principal` does not exist.
    async def enforce_user_limit(
        request: Request,
        user_id: str | None = Depends(principal),
    ) -> None:
        limiter = _limiter(request)
        if limiter is not None and user_id is not None:
            _report(request, await limiter.hit("user", user_id))

    return enforce_user_limit


# (organization id, plan name, requests allowed per minute) of the organization a request is about, or None.
PlanOfRequest = Callable[..., Awaitable[tuple[str, str, int] | None]]


def limit_by_plan(plan_of_request: PlanOfRequest) -> Callable[..., Awaitable[None]]:
    """A route dependency counting the request against the plan limit of the organization it is about.

    `plan_of_request` is a dependency naming that organization and its plan (None: the request is about no
    single organization, and only the IP and user limits cover it). List it after `limit_by_user`.
    """

    async def enforce_plan_limit(
        request: Request,
        about: tuple[str, str, int] | None = Depends(plan_of_request),
    ) -> None:
        limiter = _limiter(request)
        if limiter is not None and about is not None:
            _report(request, await limiter.hit_plan(*about))

    return enforce_plan_limit
