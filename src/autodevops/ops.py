"""Operational endpoints: `/health` (liveness), `/ready` (readiness), `/metrics` (Prometheus).

They are outside `/api/v1`, not rate limited, and hidden from the OpenAPI schema: they are for
orchestrators and scrapers, not API clients.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import text

from autodevops.errors import ServiceUnavailable, Unauthorized
from autodevops.logging import get_logger
from autodevops.metrics import render_latest

log = get_logger(__name__)

router = APIRouter(include_in_schema=False)


@router.get("/health")
async def health() -> JSONResponse:
    """The process is alive and serving. No I/O: a slow database must not get a live process restarted."""
    return JSONResponse({"status": "ok"})


async def _probe(name: str, check: Awaitable[Any], limit_s: float) -> str:
    try:
        await asyncio.wait_for(check, limit_s)
    except (TimeoutError, RedisTimeoutError):  # the bound here, or the client's own socket timeout
        log.warning("readiness check timed out", check=name, timeout_s=limit_s)
        return "timeout"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; the reason is logged, not returned
        log.warning("readiness check failed", check=name, error=f"{type(exc).__name__}: {exc}")
        return "unavailable"
    return "ok"


async def _database_ping(engine: Any) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    """Ready to take traffic: the database answers `SELECT 1` and Redis answers PING, each within the timeout.

    Otherwise a 503 whose detail names the failing dependency (`{"database": "ok", "redis": "timeout"}`).
    """
    state = request.app.state
    timeout: float = state.settings.ready_timeout_s
    probes: dict[str, Awaitable[Any]] = {
        "redis": state.redis_probe.ping(),
        "database": _database_ping(state.database.engine),
    }
    names = list(probes)
    results = await asyncio.gather(*(_probe(name, probes[name], timeout) for name in names))
    checks = dict(zip(names, results, strict=True))
    if any(result != "ok" for result in checks.values()):
        raise ServiceUnavailable("Not ready.", detail=checks)
    return JSONResponse({"status": "ready", "checks": checks})


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus exposition of the process's metrics; behind `AUTODEVOPS_METRICS_TOKEN` when it is set."""
    expected = request.app.state.settings.metrics_token
    if expected is not None:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        valid = scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), expected.get_secret_value().encode()
        )
        if not valid:
            error = Unauthorized("metrics need `Authorization: Bearer <AUTODEVOPS_METRICS_TOKEN>`")
            error.headers = {"WWW-Authenticate": "Bearer"}
            raise error
    body, content_type = render_latest()
    return Response(body, media_type=content_type)
