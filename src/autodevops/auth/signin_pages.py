"""The sign-in pages: `/sign-in` (the methods this installation offers) and `/auth/link` (a one-time link).

The sign-in page lists only what works here: GitHub when its OAuth client is configured, single sign-on when
some organization has set it up, and otherwise how to get a sign-in link from an administrator. Pages that
need a session send signed-out visitors here (`ui.SIGN_IN_PATH`).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.auth import login_links, oauth, sessions
from autodevops.db import DBSession
from autodevops.github.dependencies import AppSettings, GitHub
from autodevops.sso import queries as sso_queries
from autodevops.ui import SIGN_IN_PATH, PageRoute, form_data, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@dataclass(frozen=True, slots=True)
class SignInMethods:
    github: bool
    sso: bool
    gitlab: bool = False


async def sign_in_methods(session: AsyncSession, github: GitHub) -> SignInMethods:
    settings = github.settings
    return SignInMethods(
        github=github.oauth_configured,
        sso=await sso_queries.any_connection(session),
        gitlab=bool(settings.gitlab_client_id and settings.gitlab_client_secret),
    )


async def sign_in_page(request: Request, session: AsyncSession, github: GitHub, next_path: str | None) -> HTMLResponse:
    """The sign-in choices, each returning to `next_path` (a same-site path) afterwards; without one, each method
    lands where it leads (single sign-on on its organization's repositories, the others on the organizations)."""
    methods = await sign_in_methods(session, github)
    context = {"methods": methods, "next": oauth.safe_next(next_path) if next_path else None}
    return render(request, "sign_in.html", context)


@router.get(SIGN_IN_PATH)
async def sign_in(request: Request, session: DBSession, github: GitHub, next: str | None = None) -> HTMLResponse:
    return await sign_in_page(request, session, github, next)


@router.get(login_links.LINK_PATH)
async def link_page(request: Request, token: str = "") -> HTMLResponse:
    """Confirm before using the link: only the button's POST signs in (link previews must not burn it)."""
    valid = login_links.looks_like_link(token)
    return render(
        request,
        "login_link.html",
        {"token": token if valid else "", "refused": None if valid else login_links.REFUSED},
        status_code=200 if valid else 400,
    )


@router.post(login_links.LINK_PATH)
async def use_link(request: Request, session: DBSession, settings: AppSettings) -> Response:
    fields = await form_data(request)
    try:
        user = await login_links.consume(session, fields.get("token", ""))
    except login_links.LoginLinkRefused as refused:
        return render(request, "login_link.html", {"token": "", "refused": refused.message}, status_code=400)
    session_token = await sessions.start_session(session, settings, user.id)
    response = redirect("/orgs")
    sessions.set_session_cookie(response, settings, session_token)
    return response
