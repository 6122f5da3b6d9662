"""The FastAPI application: `create_app()` assembles middleware, error handlers, routers and shared resources.

Shared resources (the database engine, the Redis client, the rate limiter) are created in the lifespan and
kept on `app.state`, so each app instance (a server process, a test) owns and disposes its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from autodevops import __version__
from autodevops.api import api_router
from autodevops.auth.dependencies import CurrentUser
from autodevops.auth.login import router as login_router
from autodevops.auth.sessions import SessionRenewalMiddleware
from autodevops.config import Settings, get_settings
from autodevops.db import Database
from autodevops.errors import AppError
from autodevops.github.endpoints import webhook_router
from autodevops.gitlab.endpoints import WEBHOOK_PREFIX as GITLAB_WEBHOOK_PREFIX
from autodevops.gitlab.endpoints import webhook_router as gitlab_webhook_router
from autodevops.gitlab.signin import router as gitlab_login_router
from autodevops.logging import configure_logging, get_logger
from autodevops.metrics import DB_POOL, MetricsMiddleware
from autodevops.middleware import (
    DOCS_ASSETS_ORIGIN,
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
    ServerErrorMiddleware,
)
from autodevops.ops import router as ops_router
from autodevops.organization.dependencies import plan_of_request
from autodevops.pages import install_pages
from autodevops.ratelimit import RateLimiter, RateLimitHeadersMiddleware, limit_by_ip, limit_by_plan, limit_by_user
from autodevops.redis_clients import probe_client, request_client
from autodevops.shutdown import watch_for_stop
from autodevops.sso.login import router as sso_login_router

log = get_logger(__name__)

DOCS_URL = "/docs"
OPENAPI_URL = "/openapi.json"
# GitHub webhook deliveries may be much larger than API requests; they get their own body limit.
WEBHOOK_PATH = "/api/v1/github/webhooks"
SWAGGER_UI_VERSION = "5"

ERROR_SCHEMA: dict[str, Any] = {
    "title": "ErrorResponse",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "Machine-readable error code (not_found, rate_limited...)."},
        "detail": {"description": "Human-readable message, or structured details (validation errors)."},
    },
}


async def _current_user_id(user: CurrentUser) -> str:
    return str(user.id)


def _include_api(app: FastAPI) -> None:
    """Mount the JSON API behind the per-IP, per-user and per-organization (plan) rate limits.

    Every `/api/v1` route authenticates, so the user limit reuses the route's own authentication (FastAPI
    resolves `get_current_user` once per request). The IP limit is listed first: it is counted before
    authentication and so also bounds token guessing.
    """
    app.include_router(
        api_router,
        dependencies=[
            Depends(limit_by_ip),
            Depends(limit_by_user(_current_user_id)),
            Depends(limit_by_plan(plan_of_request)),
        ],
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Create the shared clients on start-up, dispose of them on shutdown."""
    settings: Settings = app.state.settings
    app.state.redis = request_client(settings.redis_url, timeout_s=settings.redis_timeout_s)
    app.state.redis_probe = probe_client(settings.redis_url, timeout_s=settings.ready_timeout_s)
    app.state.rate_limiter = RateLimiter(settings, connection_pool=app.state.redis.connection_pool)
    app.state.database = Database.from_settings(settings)
    app.state.stopping = asyncio.Event()
    DB_POOL.bind(app.state.database.engine)
    log.info("started", env=settings.env, version=__version__)
    try:
        with watch_for_stop(app.state.stopping):
            yield
    finally:
        DB_POOL.bind(None)
        await app.state.database.dispose()
        await app.state.redis.aclose()
        await app.state.redis_probe.aclose()
        log.info("stopped")


# ---- error rendering ------------------------------------------------------------------------------------
def _error_slug(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


async def _app_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return JSONResponse(exc.to_json(), status_code=exc.status_code, headers=exc.headers)


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path, for `Allow`.

    The router's own 405 names only the first route whose path matched, and a path served by separate GET and
    POST routes is two routes: its `Allow` would miss one. So each method is asked of the routes in turn, in a
    fresh scope (the request's carries the router's matching state).
    """
    allowed = ["OPTIONS"]
    for method in _METHODS:
        probe = {"type": "http", "method": method, "path": request.url.path, "root_path": "", "path_params": {}}
        if any(route.matches(dict(probe))[0] is Match.FULL for route in request.app.routes):
            allowed.append(method)
    return ", ".join(sorted(allowed))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = exc.headers
    if exc.status_code == 405:
        allow = _allowed_methods(request)
        if request.method == "OPTIONS":  # the path exists: say what it supports (RFC 9110, 9.3.7)
            return Response(status_code=204, headers={"Allow": allow})
        headers = {**(headers or {}), "Allow": allow}
    body = {"error": _error_slug(exc.status_code), "detail": exc.detail}
    if exc.status_code < 200 or exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=headers)
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Location, message and type only: echoing the input back could echo a password or token.
    errors = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type", "")}
        for error in exc.errors()
    ]
    return JSONResponse({"error": "validation_error", "detail": jsonable_encoder(errors)}, status_code=422)


# ---- OpenAPI ----------------------------------------------------------------------------------------------
def _install_openapi(app: FastAPI) -> None:
    """Describe the real error shape: every operation may answer 4XX/5XX with `ErrorResponse`."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components["ErrorResponse"] = ERROR_SCHEMA
        error_response = {
            "description": "Error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
        }
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                if "422" in responses:
                    responses["422"] = {**error_response, "description": "Validation Error"}
                responses.setdefault("4XX", {**error_response, "description": "Client error"})
                responses.setdefault("5XX", {**error_response, "description": "Server error"})
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _install_docs(app: FastAPI) -> None:
    """Swagger UI at /docs, initialised by a script file rather than an inline script (CSP forbids those)."""
    assets = f"{DOCS_ASSETS_ORIGIN}/npm/swagger-ui-dist@{SWAGGER_UI_VERSION}"
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{app.title} API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{DOCS_URL}/init.js"></script>
</body></html>"""
    init = (
        f'window.ui = SwaggerUIBundle({{url: "{OPENAPI_URL}", dom_id: "#swagger-ui", deepLinking: true,'
        " presets: [SwaggerUIBundle.presets.apis], layout: 'BaseLayout'});\n"
    )

    @app.get(DOCS_URL, include_in_schema=False)
    async def docs_page() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get(f"{DOCS_URL}/init.js", include_in_schema=False)
    async def docs_init() -> Response:
        return Response(init, media_type="text/javascript")


# ---- the app ----------------------------------------------------------------------------------------------
def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the platform's ASGI app. Refuses unsafe settings (production with default secrets) at once."""
    settings = settings or get_settings()
    settings.check()
    configure_logging(level=settings.log_level, json=settings.effective_log_json)
    if settings.sentry_dsn is not None and settings.sentry_dsn.get_secret_value():  # empty = unset (compose)
        import sentry_sdk  # imported only when enabled: it instruments libraries on import

        sentry_sdk.init(
            dsn=settings.sentry_dsn.get_secret_value(),
            environment=settings.env,
            release=f"autodevops@{__version__}",
            traces_sample_rate=settings.sentry_traces_sample_rate,
            # No request bodies, cookies or user details: Sentry's default, stated here on purpose.
            max_request_body_size="never",
        )

    app = FastAPI(
        title="AutoDevOps",
        version=__version__,
        description="Analyze repositories and generate their CI/CD pipelines.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL,
    )
    app.state.settings = settings
    app.state.webhook_slots = asyncio.Semaphore(settings.github_webhook_concurrency)

    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)

    app.include_router(ops_router)
    _include_api(app)
    # Browser sign-in and GitHub webhooks authenticate on their own terms (OAuth state, HMAC signature).
    # Sign-in is anonymous by nature, so only the per-IP limit applies to it.
    app.include_router(login_router, dependencies=[Depends(limit_by_ip)])
    app.include_router(sso_login_router, dependencies=[Depends(limit_by_ip)])
    app.include_router(gitlab_login_router, dependencies=[Depends(limit_by_ip)])
    app.include_router(webhook_router)
    app.include_router(gitlab_webhook_router)
    _install_docs(app)
    # The dashboard's pages (and HTML error pages for browsers); the API keeps its JSON errors.
    install_pages(app, dependencies=[Depends(limit_by_ip)])
    _install_openapi(app)

    # add_middleware wraps: the last one added is the outermost.
    app.add_middleware(SessionRenewalMiddleware)  # sets renewed session cookies prepared by authentication
    app.add_middleware(RateLimitHeadersMiddleware)  # X-RateLimit-* of the limits the request was counted against
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        expose_headers=[
            "X-Request-ID",
            "Retry-After",
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
        ],
        max_age=600,
    )
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        per_path={WEBHOOK_PATH: settings.github_webhook_max_bytes},
        per_prefix={GITLAB_WEBHOOK_PREFIX: settings.gitlab_webhook_max_bytes},
    )
    app.add_middleware(ServerErrorMiddleware)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, hsts_max_age=settings.hsts_max_age, docs_prefix=DOCS_URL)
    app.add_middleware(RequestContextMiddleware)
    if settings.trusted_proxies:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app
