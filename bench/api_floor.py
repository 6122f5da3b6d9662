"""The floor under `GET /api/v1/repositories`: the same I/O with no framework, for `api_load.py`.

A raw ASGI app that does exactly the work the platform's endpoint must do, and nothing else: it checks the
bearer token's shape, counts the request against the per-IP and per-user moving windows in Redis (the
platform's own Lua script, two round trips), and runs one transaction as the app role through asyncpg:
`app_authenticate_token` (which sets the tenant context), the page of 50 rows under row-level security, and
COMMIT. The page is built as JSON by PostgreSQL, so Python never touches a row. No middleware, routing,
validation, logging or metrics.

No real service would be written like this. It is measured beside the platform to show how much of the gap
to a hello-world endpoint is the request's I/O itself, which no framework choice can remove.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from autodevops.ratelimit import ACQUIRE_AND_COUNT

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]

_PAGE = """
SELECT json_build_object('items', coalesce(json_agg(r), '[]'), 'limit', $2::int, 'offset', $3::int,
                         'next_offset', NULL)::text
FROM (
    SELECT id, organization_id, name, source, clone_url, github_full_name, default_branch, visibility,
           latest_commit_sha, synced_at, created_at, updated_at
    FROM repositories
    WHERE organization_id IN (SELECT organization_id FROM organization_members WHERE user_id = $1)
    ORDER BY created_at DESC, id
    LIMIT $2 OFFSET $3
) AS r
"""
_WINDOW_SECONDS = 60
_LIMIT = 100_000_000  # never reached: counted like the platform's, never refused


class Floor:
    def __init__(self) -> None:
        self.pool: asyncpg.Pool | None = None
        self.redis: aioredis.Redis | None = None
        self.acquire: Any = None
        self.prefix = os.environ["AUTODEVOPS_RATE_LIMIT_KEY_PREFIX"] + "-floor"

    async def startup(self) -> None:
        dsn = os.environ["AUTODEVOPS_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
        size = int(os.environ["AUTODEVOPS_DATABASE_POOL_SIZE"])
        self.pool = await asyncpg.create_pool(dsn, min_size=size, max_size=size)
        self.redis = aioredis.from_url(os.environ["AUTODEVOPS_REDIS_URL"])
        self.acquire = self.redis.register_script(ACQUIRE_AND_COUNT.encode())

    async def hit(self, key: str) -> None:
        await self.acquire([f"{self.prefix}:{key}"], [repr(time.time()), _LIMIT, _WINDOW_SECONDS])

    async def page(self, token: str, client: str) -> tuple[int, bytes]:
        assert self.pool is not None
        await self.hit(f"ip/{client}")
        async with self.pool.acquire() as connection, connection.transaction():
            user = await connection.fetchrow(
                "SELECT id FROM app_authenticate_token($1, $2)", token[:12], hashlib.sha256(token.encode()).hexdigest()
            )
            if user is None:
                return 401, b'{"error":"unauthorized"}'
            await self.hit(f"user/{user['id']}")
            body: str = await connection.fetchval(_PAGE, user["id"], 50, 0)
        return 200, body.encode()

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]], send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await self.startup()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if self.pool is not None:
                        await self.pool.close()
                    if self.redis is not None:
                        await self.redis.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["path"] == "/health":
            status, body = 200, b"{}"
        else:
            authorization = dict(scope["headers"]).get(b"authorization", b"").decode()
            status, body = await self.page(authorization.removeprefix("Bearer "), scope["client"][0])
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def app() -> Floor:
    return Floor()
