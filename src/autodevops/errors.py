"""The one error family of the platform. Raised below the route layer, rendered at the edge.

Rendered as JSON `{"error": ..., "detail": ...}` for the API and as an HTML error page for the dashboard.
Never use `HTTPException` below the route layer.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status_code = 400
    error = "bad_request"
    # Extra response headers (Retry-After, WWW-Authenticate...), added by the error handler.
    headers: dict[str, str] | None = None

    def __init__(self, message: str, status_code: int | None = None, *, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.detail = detail

    def to_json(self) -> dict[str, Any]:
        return {"error": self.error, "detail": self.detail if self.detail is not None else self.message}


class NotFound(AppError):
    """Also what another tenant's object looks like: existence is never revealed across tenants."""

    status_code = 404
    error = "not_found"


class Unauthorized(AppError):
    status_code = 401
    error = "unauthorized"


class Forbidden(AppError):
    status_code = 403
    error = "forbidden"


class Conflict(AppError):
    status_code = 409
    error = "conflict"


class ValidationFailed(AppError):
    status_code = 422
    error = "validation_error"


class PayloadTooLarge(AppError):
    status_code = 413
    error = "payload_too_large"


class RateLimited(AppError):
    status_code = 429
    error = "rate_limited"

    def __init__(
        self, message: str, *, retry_after: int, detail: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message, detail=detail)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after), **(headers or {})}


class ServiceUnavailable(AppError):
    status_code = 503
    error = "service_unavailable"
