"""`/api/v1/users/me` and `/api/v1/tokens`: the caller's identity and personal API tokens."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from autodevops.auth import service
from autodevops.auth.dependencies import CurrentUser
from autodevops.auth.schemas import TokenCreate, TokenCreated, TokenRead, UserRead
from autodevops.db import DBSession
from autodevops.pagination import Page, Pagination, to_page

router = APIRouter(tags=["auth"])


@router.get("/users/me", response_model=UserRead)
async def read_me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
async def create_token(body: TokenCreate, user: CurrentUser, session: DBSession) -> TokenCreated:
    token, secret = await service.create_token(session, user, body.name, expires_in_days=body.expires_in_days)
    return TokenCreated(**TokenRead.model_validate(token).model_dump(), token=secret)


@router.get("/tokens", response_model=Page[TokenRead])
async def list_tokens(user: CurrentUser, session: DBSession, page: Pagination) -> Page[TokenRead]:
    rows = await service.list_tokens(session, user, limit=page.limit + 1, offset=page.offset)
    return to_page(rows, page, TokenRead.model_validate)


@router.delete("/tokens/{token_id}", response_model=TokenRead)
async def revoke_token(token_id: uuid.UUID, user: CurrentUser, session: DBSession) -> TokenRead:
    return TokenRead.model_validate(await service.revoke_token(session, user, token_id))
