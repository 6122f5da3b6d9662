"""Prometheus metrics of the platform, all in one registry exposed at `/metrics`.

Every metric is defined at module level against `REGISTRY`, grouped by area, so a scrape sees one consistent
set whatever code ran. Areas that come later (jobs in the worker, the AI router) add their own section below
the HTTP and database ones, with the `autodevops_<area>_` name prefix.

HTTP metrics are labelled by route *template* (`/api/v1/repositories/{repository_id}`), never by the raw
path: raw paths carry ids and would grow the series without bound. Unmatched paths share one label.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REGISTRY = CollectorRegistry(auto_describe=True)

UNMATCHED_ROUTE = "<unmatched>"
# Any token is a valid HTTP method; unknown ones share a label so clients cannot create series at will.
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# ---- HTTP ---------------------------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "autodevops_http_requests_total",
    "HTTP requests handled, by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "autodevops_http_request_duration_seconds",
    "Time from request start to the end of the response body, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
HTTP_IN_PROGRESS = Gauge(
    "autodevops_http_requests_in_progress",
    "HTTP requests currently being handled.",
    registry=REGISTRY,
)


# ---- database pool ------------------------------------------------------------------------------------
class DatabasePoolCollector(Collector):
    """Reads the SQLAlchemy pool of the running app at scrape time (no polling, nothing stale)."""

    def __init__(self) -> None:
        self._pool: Any = None

    def bind(self, engine: Any) -> None:
        """Report the pool of `engine` (an `AsyncEngine`); `None` stops reporting."""
        self._pool = None if engine is None else engine.sync_engine.pool

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        pool = self._pool
        if pool is None:
            return
        # Only QueuePool-like pools have these; NullPool (used by some tests and tools) has none.
        for name, attr, doc in (
            ("autodevops_db_pool_size", "size", "Configured size of the database connection pool."),
            ("autodevops_db_pool_checked_out", "checkedout", "Database connections currently in use."),
            ("autodevops_db_pool_checked_in", "checkedin", "Idle database connections in the pool."),
            ("autodevops_db_pool_overflow", "overflow", "Connections open beyond the pool size."),
        ):
            method = getattr(pool, attr, None)
            if callable(method):
                family = GaugeMetricFamily(name, doc)
                family.add_metric([], float(method()))
                yield family


DB_POOL = DatabasePoolCollector()
REGISTRY.register(DB_POOL)


def render_latest() -> tuple[bytes, str]:
    """The current exposition text and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def route_template(scope: Scope) -> str:
    """The template of the route that handled `scope`, set by the router while it matched."""
    route = scope.get("route")
    if route is None and scope.get("endpoint") is not None:
        # Plain Starlette routes (the OpenAPI document) record only their endpoint; find its route.
        app = scope.get("app")
        route = next(
            (item for item in getattr(app, "routes", ()) if getattr(item, "endpoint", None) is scope["endpoint"]),
            None,
        )
    if route is None:
        return UNMATCHED_ROUTE
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else UNMATCHED_ROUTE


class MetricsMiddleware:
    """Pure ASGI middleware counting requests and timing them until the last body byte is sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        HTTP_IN_PROGRESS.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            HTTP_IN_PROGRESS.dec()
            route = route_template(scope)
            method = scope["method"] if scope["method"] in _KNOWN_METHODS else "OTHER"
            counter, histogram = _children(method, route, status)
            counter.inc()
            histogram.observe(time.perf_counter() - started)


@lru_cache(maxsize=4096)
def _children(method: str, route: str, status: int) -> tuple[Any, Any]:
    # `labels()` takes a lock and builds a key on every call; the label sets are few, so look them up once.
    return HTTP_REQUESTS.labels(method, route, str(status)), HTTP_LATENCY.labels(method, route)
