"""Shared plumbing of the dashboard's pages: templates, the signed-in viewer, forms, and HTML error pages.

Pages are thin: they call the same service functions as the JSON API and render the result. Three rules
hold for every page:

* **Escaping**: templates are autoescaped; nothing is marked safe except HTML produced here by Pygments
  from escaped source.
* **CSRF**: every form carries the session's CSRF token (`csrf_field`); the session authenticator checks it
  on every state-changing request before the page runs.
* **Errors**: a page never answers JSON. `AppError`s, unknown URLs and bad path parameters render the error
  page in the dashboard's layout (404, 403, 422...), a missing session redirects to sign-in, and an
  unexpected exception is logged and rendered as a 500 page without internals.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException

from autodevops.auth.dependencies import CurrentUser
from autodevops.db import DBSession
from autodevops.errors import AppError, ValidationFailed
from autodevops.jobs.explain import readable_error, status_word
from autodevops.logging import get_logger, get_request_id
from autodevops.models import User
from autodevops.organization import service as organization_service
from autodevops.sso.rules import SSORequired, sign_in_page

log = get_logger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
SIGN_IN_PATH = "/sign-in"  # lists the sign-in methods this installation offers
# Organizations listed in the switcher; a user in more sees the rest on the organizations page.
SWITCHER_LIMIT = 50

ModelT = TypeVar("ModelT", bound=BaseModel)


def _datetime(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "—"


def _duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "—"
    seconds = max(0.0, (end - start).total_seconds())
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _ago(value: datetime | None, now: datetime | None = None) -> str:
    """A relative time ("3 min ago"); the exact time goes in the element's title."""
    if value is None:
        return "—"
    seconds = max(0, int(((now or datetime.now(UTC)) - value).total_seconds()))
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if unit == 'day' and count > 1 else ''} ago"
    return "just now"


def _http_url(value: str | None) -> str:
    """`value` if it is an http(s) URL, else "#": links from outside (GitHub) never become `javascript:`."""
    return value if value and value.lower().startswith(("https://", "http://")) else "#"


templates = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["datetime"] = _datetime
templates.filters["http_url"] = _http_url
templates.globals["duration"] = _duration
templates.filters["job_status"] = status_word
templates.filters["ago"] = _ago
templates.filters["readable_error"] = readable_error


@dataclass
class Viewer:
    """The signed-in user of a page, their organizations (for the switcher) and the session's CSRF token."""

    user: User
    session: AsyncSession
    csrf_token: str | None
    memberships: list[organization_service.Membership] = field(default_factory=list)


@dataclass(frozen=True)
class _NavOrganization:
    id: Any
    name: str


@dataclass(frozen=True)
class _NavMembership:
    organization: _NavOrganization
    role: str


@dataclass(frozen=True)
class _NavUser:
    name: str | None
    email: str


@dataclass(frozen=True)
class NavViewer:
    """What the layout needs of a viewer, copied out of the ORM: an error page renders it after the request's
    transaction was rolled back, when the ORM objects can no longer be read."""

    user: _NavUser
    csrf_token: str | None
    memberships: list[_NavMembership]


_NAV_KEY = "dashboard_nav"


async def get_viewer(request: Request, user: CurrentUser, session: DBSession) -> Viewer:
    """The page's viewer; a request without a session never gets here (401 → sign-in redirect)."""
    rows = await organization_service.list_organizations(session, user, limit=SWITCHER_LIMIT, offset=0)
    memberships = [organization_service.Membership(row[0], row[1]) for row in rows]
    viewer = Viewer(user, session, getattr(request.state, "csrf_token", None), memberships)
    nav = NavViewer(
        _NavUser(user.name, user.email),
        viewer.csrf_token,
        [_NavMembership(_NavOrganization(m.organization.id, m.organization.name), m.role) for m in memberships],
    )
    setattr(request.state, _NAV_KEY, nav)  # error pages keep the navigation
    return viewer


PageViewer = Annotated[Viewer, Depends(get_viewer)]


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    viewer: Viewer | NavViewer | None = None,
    organization: organization_service.Membership | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render `template` inside the layout. `organization` is the one the page is about (the switcher's pick)."""
    values: dict[str, Any] = {
        "viewer": viewer,
        "csrf_token": viewer.csrf_token if viewer else None,
        "current_org": organization,
        "path": request.url.path,
        "htmx": getattr(request.app.state, "dashboard_htmx", False),
        "self_url": f"{request.url.path}?{request.url.query}" if request.url.query else request.url.path,
        **(context or {}),
    }
    body = templates.get_template(template).render(values)
    return HTMLResponse(body, status_code=status_code, headers={"Cache-Control": "no-store"})


def redirect(url: str) -> RedirectResponse:
    """The answer to a successful form post: see the result at `url` (POST/redirect/GET)."""
    return RedirectResponse(url, status_code=303)


async def form_data(request: Request) -> dict[str, str]:
    """The posted form's text fields, without the CSRF token (already checked by the authenticator)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str) and key != "csrf_token"}


def parse_form(schema: type[ModelT], data: Mapping[str, Any]) -> ModelT:
    """Validate form fields with the same request schema the JSON API uses; 422 with the failing fields."""
    try:
        return schema.model_validate(data)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in item['loc']) or 'form'}: {item['msg']}" for item in error.errors()
        ]
        raise ValidationFailed("The form has invalid values.", detail=problems) from None


# ---- error pages -----------------------------------------------------------------------------------------
_PAGE_FLAG = "dashboard_page"
_TITLES = {
    400: "Bad request",
    401: "Sign in required",
    402: "Plan limit reached",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Too large",
    422: "Invalid input",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}


def wants_html(request: Request) -> bool:
    """Whether an error should be a page: dashboard routes always, other non-API URLs when a browser asks."""
    if getattr(request.state, _PAGE_FLAG, False):
        return True
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, status_code: int, message: str, details: list[str] | None = None) -> HTMLResponse:
    """The error page in the dashboard's layout, with the signed-in viewer's navigation when the page got that
    far (copied earlier: an error must render even without a database)."""
    context = {
        "status_code": status_code,
        "title": _TITLES.get(status_code, "Error"),
        "message": message,
        "details": details or [],
        "request_id": get_request_id(),
    }
    return render(
        request, "error.html", context, viewer=getattr(request.state, _NAV_KEY, None), status_code=status_code
    )


def _sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path if request.method == "GET" else "/"
    return RedirectResponse(f"{SIGN_IN_PATH}?next={quote(target, safe='/')}", status_code=303)


Handler = Callable[[Request, Any], Response | Awaitable[Response]]


async def _call(handler: Handler, request: Request, exc: Exception) -> Response:
    result = handler(request, exc)
    return result if isinstance(result, Response) else await result


def install_error_pages(app: FastAPI) -> None:
    """Wrap the app's JSON error handlers: HTML requests get the error page, the API keeps its JSON."""
    json_app_error: Handler = app.exception_handlers[AppError]
    json_http_error: Handler = app.exception_handlers[StarletteHTTPException]
    json_validation_error: Handler = app.exception_handlers[RequestValidationError]

    async def app_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, AppError) or not wants_html(request):
            return await _call(json_app_error, request, exc)
        if exc.status_code == 401 and request.method in ("GET", "HEAD"):
            return _sign_in_redirect(request)
        if isinstance(exc, SSORequired) and request.method in ("GET", "HEAD"):
            # A member in the wrong kind of session: to the organization's single sign-on, then back here.
            return RedirectResponse(sign_in_page(exc.slug, request.url.path), status_code=303)
        details = [str(item) for item in exc.detail] if isinstance(exc.detail, list) else None
        response = error_page(request, exc.status_code, exc.message, details)
        if exc.headers and "Retry-After" in exc.headers:
            response.headers["Retry-After"] = exc.headers["Retry-After"]
        return response

    async def http_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, StarletteHTTPException) or not wants_html(request) or exc.status_code < 400:
            return await _call(json_http_error, request, exc)
        message = "There is no page at this address." if exc.status_code == 404 else str(exc.detail)
        return error_page(request, exc.status_code, message)

    async def validation_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, RequestValidationError) or not wants_html(request):
            return await _call(json_validation_error, request, exc)
        # A malformed id in the URL names nothing: the same 404 as a missing (or another tenant's) object.
        if any(error.get("loc", ("",))[0] == "path" for error in exc.errors()):
            return error_page(request, 404, "There is no page at this address.")
        return error_page(request, 422, "The request has invalid values.")

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)


class PageRoute(APIRoute):
    """A dashboard route: errors render as pages, and an unexpected exception is a logged 500 page.

    The platform's outer error middleware would answer a crash with JSON; a page catches it here instead.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            setattr(request.state, _PAGE_FLAG, True)
            try:
                return await handler(request)
            except (AppError, StarletteHTTPException, RequestValidationError):
                raise
            except Exception:
                log.exception("page failed", method=request.method, path=request.url.path)
                return error_page(request, 500, "The page could not be shown. Try again in a moment.")

        return page_handler
