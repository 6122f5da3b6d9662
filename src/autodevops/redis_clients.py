"""Every Redis client of the platform, built one way: bounded in time and retried on connection errors.

A Redis restart leaves the pooled connections of every process stale: the next command on each fails with
"Connection closed by server". redis-py retries nothing by default for clients made from a URL, so each
client here retries connection errors and timeouts with a jittered exponential backoff (a reconnect
takes milliseconds once Redis is back), and pings a connection that has been idle before reusing it.

Two shapes:

* **request path** (`request_client`): the API's calls (enqueue after commit, rate limits). Connect
  and command timeouts are `AUTODEVOPS_REDIS_TIMEOUT_S`, and callers bound the whole call, retries included,
  with `bounded()`: a hung Redis costs a request at most that long. PostgreSQL holds the durable record of
  every job, so a push that does not happen in time is safe (the reconciler queues it).
* **probe** (`probe_client`): readiness. One attempt, no retries: a probe answers whether Redis answers *now*
  (an orchestrator repeats probes itself), and a refused connection must read as "unavailable" at once rather
  than as a timeout after the retries have used up the probe's time.
* **background** (`background_client`): workers and the SSE streams, whose blocking reads (BZPOPMIN, XREAD
  with BLOCK) last seconds, so their command timeout is longer than any block they ask for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

T = TypeVar("T")

# Longer than any blocking command sent (BZPOPMIN up to 5 s, SSE's XREAD up to 15 s).
BACKGROUND_SOCKET_TIMEOUT_S = 30.0
BACKGROUND_CONNECT_TIMEOUT_S = 5.0
# Five retries, 50 ms doubling to at most 1 s: about 2 s of trying covers a restart.
RETRIES = 5
BACKOFF_BASE_S = 0.05
BACKOFF_CAP_S = 1.0
# A connection idle this long is pinged before it is used again.
HEALTH_CHECK_INTERVAL_S = 5


def _retry() -> Retry:
    return Retry(
        ExponentialWithJitterBackoff(base=BACKOFF_BASE_S, cap=BACKOFF_CAP_S),
        RETRIES,
        supported_errors=(RedisConnectionError, RedisTimeoutError),
    )


def _client(
    url: str, *, socket_timeout_s: float, connect_timeout_s: float, decode: bool, retry: Retry | None = None
) -> aioredis.Redis:
    client: aioredis.Redis = aioredis.from_url(
        url,
        decode_responses=decode,
        socket_timeout=socket_timeout_s,
        socket_connect_timeout=connect_timeout_s,
        socket_keepalive=True,
        health_check_interval=HEALTH_CHECK_INTERVAL_S,
        retry=retry or _retry(),
    )
    return client


def request_client(url: str, *, timeout_s: float, decode: bool = False) -> aioredis.Redis:
    """A client for the request path: connect and command timeouts of `timeout_s`."""
    return _client(url, socket_timeout_s=timeout_s, connect_timeout_s=timeout_s, decode=decode)


def probe_client(url: str, *, timeout_s: float) -> aioredis.Redis:
    """A client for readiness probes: one attempt per command, connect and command timeouts of `timeout_s`."""
    return _client(
        url, socket_timeout_s=timeout_s, connect_timeout_s=timeout_s, decode=False, retry=Retry(NoBackoff(), 0)
    )


def background_client(url: str, *, decode: bool = True) -> aioredis.Redis:
    """A client for workers and event streams (blocking reads of up to 15 s)."""
    return _client(
        url, socket_timeout_s=BACKGROUND_SOCKET_TIMEOUT_S, connect_timeout_s=BACKGROUND_CONNECT_TIMEOUT_S, decode=decode
    )


async def bounded(call: Awaitable[T], timeout_s: float) -> T:
    """`call`, retries included, within `timeout_s`; `RedisTimeoutError` past it.

    The call runs as a task of its own that is abandoned (cancelled, not awaited) at the bound: redis-py can
    swallow a cancellation and go on reading until its socket timeout, retries included, so waiting for it
    to acknowledge would not bound anything.
    """
    task = asyncio.ensure_future(call)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout_s)
    except asyncio.CancelledError:
        task.cancel()
        task.add_done_callback(_collect)
        raise
    if task in done:
        return task.result()
    task.cancel()
    task.add_done_callback(_collect)
    raise RedisTimeoutError(f"Redis did not answer within {timeout_s:g}s")


def _collect(task: asyncio.Future[T]) -> None:
    """Retrieve an abandoned call's outcome (asyncio would report it as never retrieved)."""
    if not task.cancelled():
        task.exception()
