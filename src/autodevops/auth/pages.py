"""Account pages: personal API tokens (created and shown once, listed, revoked)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from autodevops.auth import service
from autodevops.auth.schemas import TokenCreate
from autodevops.errors import AppError
from autodevops.ui import (
    PageRoute,
    PageViewer,
    Viewer,
    form_data,
    form_problem,
    is_form_mistake,
    parse_form,
    redirect,
    render,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TOKENS_PAGE = 100


async def _tokens_page(
    request: Request,
    viewer: Viewer,
    created: str | None = None,
    *,
    refused: AppError | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    tokens = await service.list_tokens(viewer.session, viewer.user, limit=TOKENS_PAGE, offset=0)
    context = {
        "tokens": tokens,
        "created": created,
        "form_error": form_problem(refused) if refused else None,
        "values": values or {},
    }
    return render(request, "tokens.html", context, viewer=viewer, status_code=refused.status_code if refused else 200)


@router.get("/settings/tokens")
async def tokens_page(request: Request, viewer: PageViewer) -> HTMLResponse:
    return await _tokens_page(request, viewer)


@router.post("/settings/tokens")
async def create_token(request: Request, viewer: PageViewer) -> HTMLResponse:
    """Create a token and show its secret in this response only (never stored in clear, never shown again)."""
    fields = await form_data(request)
    typed = dict(fields)
    if not fields.get("expires_in_days"):
        fields.pop("expires_in_days", None)
    try:
        body = parse_form(TokenCreate, fields)
        _token, secret = await service.create_token(
            viewer.session, viewer.user, body.name, expires_in_days=body.expires_in_days
        )
    except AppError as refused:
        if not is_form_mistake(refused):
            raise
        return await _tokens_page(request, viewer, refused=refused, values=typed)
    return await _tokens_page(request, viewer, created=secret)


@router.post("/settings/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: uuid.UUID, viewer: PageViewer) -> Response:
    token = await service.revoke_token(viewer.session, viewer.user, token_id)
    return redirect("/settings/tokens", notice=f"Token {token.name} revoked.", request=request)
