"""Account pages: personal API tokens (created and shown once, listed, revoked)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from autodevops.auth import service
from autodevops.auth.schemas import TokenCreate
from autodevops.ui import PageRoute, PageViewer, Viewer, form_data, parse_form, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TOKENS_PAGE = 100


async def _tokens_page(request: Request, viewer: Viewer, created: str | None = None) -> HTMLResponse:
    tokens = await service.list_tokens(viewer.session, viewer.user, limit=TOKENS_PAGE, offset=0)
    return render(request, "tokens.html", {"tokens": tokens, "created": created}, viewer=viewer)


@router.get("/settings/tokens")
async def tokens_page(request: Request, viewer: PageViewer) -> HTMLResponse:
    return await _tokens_page(request, viewer)


@router.post("/settings/tokens")
async def create_token(request: Request, viewer: PageViewer) -> HTMLResponse:
    """Create a token and show its secret in this response only (never stored in clear, never shown again)."""
    fields = await form_data(request)
    if not fields.get("expires_in_days"):
        fields.pop("expires_in_days", None)
    body = parse_form(TokenCreate, fields)
    _token, secret = await service.create_token(
        viewer.session, viewer.user, body.name, expires_in_days=body.expires_in_days
    )
    return await _tokens_page(request, viewer, created=secret)


@router.post("/settings/tokens/{token_id}/revoke")
async def revoke_token(token_id: uuid.UUID, viewer: PageViewer) -> Response:
    await service.revoke_token(viewer.session, viewer.user, token_id)
    return redirect("/settings/tokens")
