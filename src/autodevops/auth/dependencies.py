"""`CurrentUser`: who is calling. The one place requests are authenticated.

Authenticators are tried in order; the first that recognises the request's credentials decides:
`Authorization: Bearer <personal API token>`, then the dashboard's session cookie. An authenticator returns
None when the request carries none of its credentials, raises `Unauthorized` when they are bad, and must bind
the DB session to the user it returns (`db.bind_tenant`), so row-level security applies from then on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.auth import service
from autodevops.auth.sessions import session_cookie
from autodevops.db import DBSession
from autodevops.errors import Unauthorized
from autodevops.models import User

Authenticator = Callable[[Request, AsyncSession], Awaitable[User | None]]


async def bearer_token(request: Request, session: AsyncSession) -> User | None:
    """The user of an `Authorization: Bearer` personal API token; None when the header is absent."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthorized("expected `Authorization: Bearer <token>`")
    return await service.authenticate_bearer(session, credentials.strip())


AUTHENTICATORS: list[Authenticator] = [bearer_token, session_cookie]


async def get_current_user(request: Request, session: DBSession) -> User:
    """The authenticated user, with the request's DB session bound to them. 401 otherwise."""
    try:
        for authenticate in AUTHENTICATORS:
            user = await authenticate(request, session)
            if user is not None:
                request.state.user_id = str(user.id)
                return user
        raise Unauthorized("authentication required")
    except Unauthorized as error:
        # RFC 9110: a 401 names the scheme the client should use.
        error.headers = {"WWW-Authenticate": "Bearer"}
        raise


CurrentUser = Annotated[User, Depends(get_current_user)]
