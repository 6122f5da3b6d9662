"""`autodevops serve` stops on SIGTERM within its grace period even while an event stream is open (before,
one open stream kept the process alive until its client gave up)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from typing import Any

import httpx

from autodevops.config import Settings
from autodevops.db import Database, tenant_session
from autodevops.models import Repository
from platform_support import redis_url
from throwaway_services import free_port


def _start_server(settings: Settings, port: int, prefix: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTODEVOPS_")}
    env.update(
        {
            "AUTODEVOPS_ENV": "test",
            "AUTODEVOPS_DATABASE_URL": settings.database_url.get_secret_value(),
            "AUTODEVOPS_DATABASE_ADMIN_URL": settings.database_admin_url.get_secret_value(),
            "AUTODEVOPS_QUEUE_REDIS_URL": redis_url(13),
            "AUTODEVOPS_JOBS_KEY_PREFIX": prefix,
            "AUTODEVOPS_RATE_LIMIT_ENABLED": "false",
            "AUTODEVOPS_SHUTDOWN_GRACE_S": "1",
            "AUTODEVOPS_LOG_LEVEL": "WARNING",
        }
    )
    command = [sys.executable, "-m", "autodevops", "serve", "--port", str(port)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_a_stopping_api_ends_its_open_event_streams(
    pg_settings: Settings, database: Database, make_tenant: Any
) -> None:
    alice = await make_tenant(organization="A")
    async with tenant_session(database, user_id=alice.user_id) as session:
        repository = Repository(
            organization_id=alice.organization_id, name="w", source="git", clone_url="https://140.82.112.3/a/w.git"
        )
        session.add(repository)
        await session.flush()
    port = free_port()
    server = _start_server(pg_settings, port, f"adserve-{uuid.uuid4().hex[:8]}")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            for _ in range(300):
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            started = await client.post(f"/api/v1/repositories/{repository.id}/analyses", headers=alice.headers)
            job_id = started.json()["id"]  # no worker runs: the job stays pending and its stream open

            async with client.stream("GET", f"/api/v1/jobs/{job_id}/events", headers=alice.headers) as stream:
                lines = stream.aiter_lines()
                assert await anext(lines) == "retry: 3000"
                server.send_signal(signal.SIGTERM)
                signalled = time.monotonic()
                # The stream ends with a last message that says so, and the body is complete.
                rest = [line async for line in lines]
            assert "event: unavailable" in rest
            assert any("The server is restarting" in line for line in rest)
            code = await asyncio.to_thread(server.wait, 30)
            assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled once it has stopped
            assert time.monotonic() - signalled < 20  # not the stream's own lifetime (until the client leaves)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
