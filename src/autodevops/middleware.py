"""The platform's HTTP middleware, written as pure ASGI.

Pure ASGI (not `BaseHTTPMiddleware`) because that one buffers and re-wraps responses in a task, which breaks
streaming responses and server-sent events, and loses context variables set below it.

Order, outermost first (see `web.create_app`): proxy headers (when trusted) → request context (correlation
id, access log) → security headers → metrics → server errors (catch-all 500) → body size limit → CORS → app.
Everything inside the request context logs with the correlation id, and every response, including a 500 or
a 413, goes out through the security headers.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from autodevops.db import database_unavailable
from autodevops.errors import AppError, PayloadTooLarge
from autodevops.logging import bind_request_id, get_logger
from autodevops.metrics import route_template

log = get_logger(__name__)
_stdlib_log = logging.getLogger(__name__)  # for a cheap level check before building the access line

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_KEY = REQUEST_ID_HEADER.lower().encode()
# Ids we accept from clients and proxies: UUIDs, hex, and the usual trace-id alphabets; anything else
# (spaces, control characters, very long values) could forge log lines or bloat them, so it is replaced.
_WELL_FORMED_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+/-]{0,127}")


def is_well_formed_request_id(value: str) -> bool:
    """Whether a client-supplied correlation id is safe to adopt."""
    return _WELL_FORMED_REQUEST_ID.fullmatch(value) is not None


def new_request_id() -> str:
    """A fresh correlation id."""
    return uuid.uuid4().hex


async def send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    """Send a complete JSON response from middleware (no app involved)."""
    payload = json.dumps(body, separators=(",", ":")).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    for name, value in (headers or {}).items():
        raw_headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class RequestContextMiddleware:
    """Adopt or generate the correlation id, bind it for logging, echo it back, and write the access log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        supplied = _header(scope, _REQUEST_ID_KEY)
        request_id = supplied if supplied is not None and is_well_formed_request_id(supplied) else new_request_id()
        structlog.contextvars.clear_contextvars()
        bind_request_id(request_id)
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(name, value) for name, value in message.get("headers", ()) if name != _REQUEST_ID_KEY]
                headers.append((_REQUEST_ID_KEY, request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if scope["type"] == "http" and _stdlib_log.isEnabledFor(logging.INFO):
                # The path only: query strings may carry tokens (OAuth codes, signed links).
                log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    route=route_template(scope),
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
            bind_request_id(None)


# The API and dashboard never need inline scripts: pages load their scripts from /static.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# The interactive API docs load Swagger UI from its CDN; still no inline script (see `web.docs_page`).
DOCS_ASSETS_ORIGIN = "https://cdn.jsdelivr.net"
DOCS_CONTENT_SECURITY_POLICY = (
    f"default-src 'self'; script-src 'self' {DOCS_ASSETS_ORIGIN}; style-src 'self' 'unsafe-inline' "
    f"{DOCS_ASSETS_ORIGIN}; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeadersMiddleware:
    """Add the browser security headers to every HTTP response; HSTS only when served over HTTPS.

    The scheme is the one the client used: behind a TLS-terminating proxy it comes from `X-Forwarded-Proto`,
    which is only honoured for the proxies listed in `AUTODEVOPS_TRUSTED_PROXIES`.
    """

    def __init__(self, app: ASGIApp, *, hsts_max_age: int, docs_prefix: str = "/docs") -> None:
        self.app = app
        self.docs_prefix = docs_prefix
        common = [
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "strict-origin-when-cross-origin"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
            ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
        ]
        hsts = [("Strict-Transport-Security", f"max-age={hsts_max_age}; includeSubDomains")] if hsts_max_age else []
        # Encoded once: these are added to every response.
        self._headers = {
            (docs, https): _encode_headers(
                [("Content-Security-Policy", DOCS_CONTENT_SECURITY_POLICY if docs else CONTENT_SECURITY_POLICY)]
                + common
                + (hsts if https else [])
            )
            for docs in (False, True)
            for https in (False, True)
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_docs = scope["path"] == self.docs_prefix or scope["path"].startswith(self.docs_prefix + "/")
        extra = self._headers[(is_docs, scope.get("scheme") == "https")]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                # A response that sets its own policy (a page with stricter needs) keeps it.
                headers.extend(header for header in extra if header[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)


def _encode_headers(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]


DATABASE_UNAVAILABLE = "The database is unavailable right now; retry after the Retry-After delay."
DATABASE_RETRY_AFTER_S = 5


class ServerErrorMiddleware:
    """Turn any unhandled exception into a 500 in the `{"error", "detail"}` shape, never leaking internals.

    A database outage (PostgreSQL down, restarting, or out of connections) is a 503 `database_unavailable`
    with `Retry-After` instead: the request may succeed when retried.

    It sits inside the security-header and correlation-id middleware so the 500 carries both, and logs the
    exception (with its traceback, redacted) under the request's correlation id.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as error:
            if database_unavailable(error):
                # An outage, not a bug: the client may retry, and nobody needs the traceback of each request.
                log.warning("database unavailable", method=scope["method"], path=scope["path"], error=str(error))
                if started:
                    raise
                body = {"error": "database_unavailable", "detail": DATABASE_UNAVAILABLE}
                await send_json(send, 503, body, {"Retry-After": str(DATABASE_RETRY_AFTER_S)})
                return
            log.exception("unhandled error", method=scope["method"], path=scope["path"])
            if started:
                # Part of the response is out; all that is left is to let the server drop the connection.
                raise
            await send_json(send, 500, {"error": "internal_error", "detail": "Internal server error."})


class BodySizeLimitMiddleware:
    """Refuse request bodies larger than `max_bytes` with a 413, counting bytes as they stream in.

    A declared `Content-Length` over the limit is refused before the app runs. Without one (chunked
    uploads) or with a lying one, the body is counted while the app reads it; past the limit the 413 is
    sent at once and the app sees a disconnect, so nothing it sends afterwards reaches the client.
    `per_path` gives exact paths their own limit (GitHub sends webhook payloads of up to 25 MB), `per_prefix`
    the paths under a prefix (GitLab's per-connection webhook URLs).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        per_path: dict[str, int] | None = None,
        per_prefix: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.per_path = per_path or {}
        self.per_prefix = per_prefix or {}

    def limit_of(self, path: str) -> int:
        if path in self.per_path:
            return self.per_path[path]
        return next((limit for prefix, limit in self.per_prefix.items() if path.startswith(prefix)), self.max_bytes)

    @staticmethod
    def _error(limit: int) -> dict[str, Any]:
        return PayloadTooLarge(
            f"Request body is larger than {limit} bytes.", detail=f"limit is {limit} bytes"
        ).to_json()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope["path"])
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > limit
            except ValueError:
                await send_json(
                    send, 400, AppError("Malformed Content-Length header.").to_json(), {"Connection": "close"}
                )
                return
            if too_large:
                await send_json(send, 413, self._error(limit), {"Connection": "close"})
                return

        received = 0
        refused = False
        response_started = False

        async def receive_wrapper() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if not response_started:
                        await send_json(send, 413, self._error(limit), {"Connection": "close"})
                    return {"type": "http.disconnect"}
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal response_started
            if refused:
                return  # the 413 already went out; the app's reaction to the disconnect is dropped
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive_wrapper, send_wrapper)
        except Exception:
            if not refused:
                raise
            # The app failed on the disconnect it was shown after the 413; nothing more to report.
