"""Shared plumbing of the dashboard's pages: templates, the signed-in viewer, forms, and HTML error pages.

Pages are thin: they call the same service functions as the JSON API and render the result. Three rules
hold for every page:

* **Escaping**: templates are autoescaped; nothing is marked safe except HTML produced here by Pygments
  from escaped source.
* **CSRF**: every form carries the session's CSRF token (`csrf_field`); the session authenticator checks it
  on every state-changing request before the page runs.
* **Errors**: a page never answers JSON. `AppError`s, unknown URLs and bad path parameters render the error
  page in the dashboard's layout (404, 403, 422...) with the signed-in navigation, a missing session
  redirects to sign-in, and an unexpected exception is logged and rendered as a 500 page without internals.
  A form refused for a reason the person can fix (`is_form_mistake`) is not an error page: the form's page
  again, the reason next to the form (`form_problem`) and what was typed kept.
* **Confirmations**: a successful post redirects with a `notice` ("Pull request #12 opened."), carried in a
  short-lived signed cookie and shown once at the top of the next page.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
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

from autodevops.auth import sessions
from autodevops.auth.dependencies import CurrentUser
from autodevops.config import Settings
from autodevops.db import DBSession, get_database
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
# An error page waits this long at most for the navigation of a request that failed before reading it.
NAV_LOOKUP_TIMEOUT_S = 2.0

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
    fragment: bool = False,
) -> HTMLResponse:
    """Render `template` inside the layout. `organization` is the one the page is about (the switcher's pick).

    A whole page shows (and uses up) the confirmation a form post left for it (`redirect(..., notice=...)`);
    a `fragment` fetched by a script leaves it for the page.
    """
    notice = None if fragment else _read_notice(request)
    values: dict[str, Any] = {
        "viewer": viewer,
        "csrf_token": viewer.csrf_token if viewer else None,
        "current_org": organization,
        "path": request.url.path,
        "htmx": getattr(request.app.state, "dashboard_htmx", False),
        "self_url": f"{request.url.path}?{request.url.query}" if request.url.query else request.url.path,
        "notice": notice,
        **(context or {}),
    }
    body = templates.get_template(template).render(values)
    response = HTMLResponse(body, status_code=status_code, headers={"Cache-Control": "no-store"})
    if notice is not None or (not fragment and NOTICE_COOKIE in request.cookies):
        response.delete_cookie(NOTICE_COOKIE, path="/")
    return response


# ---- confirmations after a form post ("PR #12 opened", "sam@example.com invited") ------------------------------
NOTICE_COOKIE = "autodevops_notice"
NOTICE_MAX_AGE_S = 60  # read by the page the post redirects to, right away
NOTICE_MAX_LENGTH = 300


def _notice_key(settings: Settings) -> bytes:
    return hashlib.sha256(b"autodevops:notice:" + settings.secret_key.get_secret_value().encode()).digest()


def _sign_notice(settings: Settings, message: str) -> str:
    payload = base64.urlsafe_b64encode(message[:NOTICE_MAX_LENGTH].encode()).decode().rstrip("=")
    mac = hmac.new(_notice_key(settings), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{mac}"


def _read_notice(request: Request) -> str | None:
    """The confirmation left by the previous post, if its signature holds: a cookie set by anything else (another
    site on a sibling domain, a browser extension) never puts words in the dashboard's mouth."""
    value = request.cookies.get(NOTICE_COOKIE)
    settings: Settings | None = getattr(request.app.state, "settings", None)
    if not value or settings is None:
        return None
    payload, _, mac = value.partition(".")
    expected = hmac.new(_notice_key(settings), payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        return None
    try:
        return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()[:NOTICE_MAX_LENGTH]
    except (ValueError, UnicodeDecodeError):
        return None


def redirect(url: str, *, notice: str | None = None, request: Request | None = None) -> RedirectResponse:
    """The answer to a successful form post: see the result at `url` (POST/redirect/GET), with `notice`, a
    confirmation of what was done, shown once at the top of that page."""
    response = RedirectResponse(url, status_code=303)
    if notice and request is not None:
        settings: Settings = request.app.state.settings
        response.set_cookie(
            NOTICE_COOKIE,
            _sign_notice(settings, notice),
            max_age=NOTICE_MAX_AGE_S,
            path="/",
            httponly=True,
            samesite="lax",
            secure=settings.session_cookie_secure,
        )
    return response


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


# A form post refused for one of these reasons is the person's to fix: the form's page again, the reason next
# to the form and what was typed kept (not an error page). Other statuses (404, 500...) stay error pages.
FORM_MISTAKES = frozenset({400, 402, 403, 409, 422})


def is_form_mistake(error: AppError, *, not_found: bool = False) -> bool:
    """Whether `error` is the person's to fix in the form (`not_found`: the form names a thing that may not
    exist, e.g. a GitLab project path or a member's address)."""
    return error.status_code in FORM_MISTAKES or (not_found and error.status_code == 404)


def form_problem(error: AppError) -> str:
    """What to say next to a form refused with `error`: its message, with the failing fields when validation
    said which."""
    if isinstance(error.detail, list) and error.detail:
        return f"{error.message} " + "; ".join(str(item) for item in error.detail)
    return error.message


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


async def _ensure_nav(request: Request) -> None:
    """Give an error page raised before the page read its viewer (an unknown URL, a malformed id) the signed-in
    navigation anyway: read from the session cookie in a short session of its own. Best effort: without a
    valid session, or when the database does not answer quickly, the page has no navigation."""
    if getattr(request.state, _NAV_KEY, None) is not None or request.method not in ("GET", "HEAD"):
        return
    settings: Settings | None = getattr(request.app.state, "settings", None)
    if settings is None or sessions.cookie_name(settings) not in request.cookies:
        return
    try:
        async with (
            asyncio.timeout(NAV_LOOKUP_TIMEOUT_S),
            get_database(request).sessionmaker() as session,
            session.begin(),
        ):
            user = await sessions.session_cookie(request, session)
            if user is None:
                return
            rows = await organization_service.list_organizations(session, user, limit=SWITCHER_LIMIT, offset=0)
            nav = NavViewer(
                _NavUser(user.name, user.email),
                getattr(request.state, "csrf_token", None),
                [_NavMembership(_NavOrganization(org.id, org.name), role) for org, role in rows],
            )
    except Exception as error:  # noqa: BLE001 - an error page must render whatever the session's state
        log.info("error page without navigation", reason=type(error).__name__)
        return
    setattr(request.state, _NAV_KEY, nav)


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
        await _ensure_nav(request)
        response = error_page(request, exc.status_code, exc.message, details)
        if exc.headers and "Retry-After" in exc.headers:
            response.headers["Retry-After"] = exc.headers["Retry-After"]
        return response

    async def http_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, StarletteHTTPException) or not wants_html(request) or exc.status_code < 400:
            return await _call(json_http_error, request, exc)
        message = "There is no page at this address." if exc.status_code == 404 else str(exc.detail)
        await _ensure_nav(request)
        return error_page(request, exc.status_code, message)

    async def validation_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, RequestValidationError) or not wants_html(request):
            return await _call(json_validation_error, request, exc)
        # A malformed id in the URL names nothing: the same 404 as a missing (or another tenant's) object.
        await _ensure_nav(request)
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
