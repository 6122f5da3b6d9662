"""Database access: the async engine, tenant-bound sessions, commit at the edge and after-commit hooks.

The rules this module enforces (see DESIGN.md, conventions 2 and 3):

* **One transaction per request or job, committed at the edge.** Domain code calls `flush()`, never
  `commit()`. The request dependency `get_db_session` (the `DBSession` alias) commits after the path function
  returns and *before* the response is sent, so a failed COMMIT becomes a 500, never a 200. Jobs and CLI
  commands use `tenant_session(...)`, which does the same around a block.
* **The tenant context is set right after BEGIN.** A session carries a `TenantContext` in `session.info`; an
  `after_begin` listener runs `set_config('app.user_id', ..., true)` and `set_config('app.organization_id',
  ..., true)` (transaction-local, so nothing leaks to the next user of a pooled connection) as the first
  statement of every transaction. Row-level security policies read these settings (see `migrations/rls.py`):
  with neither set, every tenant table looks empty.
* **Two kinds of context.** `user_id` is a person (a request, or a job acting for whoever asked): they see the
  organizations they are a member of. `organization_id` is a background context for one organization (a job
  acting for the organization itself, e.g. a push webhook): it sees exactly that organization's rows, with no
  user. Either or both may be set; the visible set is the union. These settings are a second line of defence
  behind the services' own scoping, not an authentication mechanism: only trusted platform code sets them.
* **After-commit hooks.** `after_commit(session, callback)` buffers an async callback (typically "enqueue this
  job") that runs only once the transaction has committed, and is dropped on rollback, so a worker never picks
  up a job whose rows do not exist.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, SessionTransaction

from autodevops.errors import Conflict

if TYPE_CHECKING:
    from autodevops.config import Settings

logger = logging.getLogger(__name__)

AfterCommitCallback = Callable[[], Awaitable[None]]

_TENANT_KEY = "tenant"
_AFTER_COMMIT_KEY = "after_commit"
_SET_CONTEXT = text(
    "SELECT set_config('app.user_id', :user_id, true), set_config('app.organization_id', :organization_id, true), "
    "set_config('app.sso_organization_id', :sso_organization_id, true), set_config('app.via_token', :via_token, true)"
)


@dataclass(frozen=True, slots=True)
class TenantContext:
    """Who a transaction acts for. Empty (both None) means: no tenant rows are visible.

    `sso_organization_id` and `via_token` say how the user authenticated (a session that came through that
    organization's identity provider; a personal API token): an organization that requires single sign-on
    counts the user's membership only for the credentials it accepts (`app_organization_ids()`).
    """

    user_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    sso_organization_id: uuid.UUID | None = None
    via_token: bool = False

    def as_params(self) -> dict[str, str]:
        return {
            "user_id": str(self.user_id) if self.user_id else "",
            "organization_id": str(self.organization_id) if self.organization_id else "",
            "sso_organization_id": str(self.sso_organization_id) if self.sso_organization_id else "",
            "via_token": "true" if self.via_token else "",
        }


class TenantSession(Session):
    """The sync session behind every `AsyncSession` of the platform; carries the tenant listener."""


@event.listens_for(TenantSession, "after_begin")
def _set_tenant_after_begin(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    context: TenantContext | None = session.info.get(_TENANT_KEY)
    if context is not None:
        connection.execute(_SET_CONTEXT, context.as_params())


@event.listens_for(TenantSession, "after_rollback")
def _drop_after_commit_on_rollback(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT_KEY, None)


class Database:
    """An async engine and its session factory. One per process; `dispose()` on shutdown.

    The web app keeps it on `app.state.database`; workers and CLI commands create their own.
    """

    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 10, echo: bool = False) -> None:
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_recycle=1800,
            # A pooled connection a PostgreSQL restart has closed is replaced before use, so the first request
            # after an outage does not fail on it.
            pool_pre_ping=True,
            echo=echo,
        )
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=TenantSession
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The app-role database of `settings` (never the admin URL: RLS must apply)."""
        return cls(
            settings.database_url.get_secret_value(),
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        )

    @classmethod
    def maintenance(cls, settings: Settings) -> Database:
        """The maintenance role's database: only the cross-tenant lookups (`app_jobs_in_states()`), no table.

        Workers and operator commands find ids with it, then use the app-role database bound to each row's
        organization. The API never opens it (see `migrations/rls.py`).
        """
        return cls(settings.effective_database_maintenance_url, pool_size=1, max_overflow=1)

    async def dispose(self) -> None:
        await self.engine.dispose()


async def bind_tenant(
    session: AsyncSession,
    *,
    user_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    sso_organization_id: uuid.UUID | None = None,
    via_token: bool = False,
    applied: bool = False,
) -> None:
    """Make `session` act for a user and/or an organization, now and in every later transaction.

    Applied immediately when a transaction is already open (a request binds its user after authenticating
    within the transaction), and by the `after_begin` listener for every new one. `applied=True` says the
    open transaction already carries exactly this context (set by a database function such as
    `app_authenticate_token`), which saves a round trip.
    """
    await bind_context(
        session,
        TenantContext(user_id, organization_id, sso_organization_id=sso_organization_id, via_token=via_token),
        applied=applied,
    )


async def bind_context(session: AsyncSession, context: TenantContext, *, applied: bool = False) -> None:
    """`bind_tenant` with a whole context, e.g. a request's (`tenant_of`) carried into a session of its own."""
    session.info[_TENANT_KEY] = context
    if session.in_transaction() and not applied:
        await session.execute(_SET_CONTEXT, context.as_params())


def tenant_of(session: AsyncSession) -> TenantContext:
    """The context `session` acts for (empty when unbound)."""
    context: TenantContext | None = session.info.get(_TENANT_KEY)
    return context or TenantContext()


def after_commit(session: AsyncSession, callback: AfterCommitCallback) -> None:
    """Run `callback` once the current transaction has committed; drop it if the transaction rolls back.

    Callbacks run in registration order after COMMIT succeeded. One that raises is logged and does not stop
    the others (the data is committed by then; the durable `jobs` row lets a sweeper re-enqueue).
    """
    session.info.setdefault(_AFTER_COMMIT_KEY, []).append(callback)


async def add_or_conflict(session: AsyncSession, instance: object, conflict: str) -> None:
    """Insert `instance` now; `Conflict(conflict)` if the database refuses it (a unique constraint, typically).

    The insert runs in a savepoint, so the refusal leaves the request's or job's transaction usable.
    """
    try:
        async with session.begin_nested():
            session.add(instance)
            await session.flush()
    except IntegrityError as error:
        raise Conflict(conflict) from error


async def commit(session: AsyncSession) -> None:
    """Commit `session`, then run its after-commit callbacks. Raises (and drops the callbacks) if COMMIT fails."""
    callbacks: list[AfterCommitCallback] = session.info.pop(_AFTER_COMMIT_KEY, [])
    await session.commit()
    for callback in callbacks:
        try:
            await callback()
        except Exception:
            logger.exception("after-commit callback failed", extra={"callback": getattr(callback, "__name__", "")})


async def rollback(session: AsyncSession) -> None:
    """Roll back and drop the after-commit callbacks."""
    session.info.pop(_AFTER_COMMIT_KEY, None)
    await session.rollback()


@asynccontextmanager
async def tenant_session(
    database: Database,
    *,
    user_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    context: TenantContext | None = None,
) -> AsyncIterator[AsyncSession]:
    """A session acting for a user and/or an organization, committed when the block exits normally.

    This is how jobs and CLI commands reach tenant data::

        async with tenant_session(database, organization_id=job.organization_id) as session:
            ...  # flush(), never commit()

    An exception rolls back (dropping after-commit callbacks) and propagates. `context` replaces both
    keywords: a request's whole context (`tenant_of(request_session)`), how its user authenticated included.
    """
    async with database.sessionmaker() as session:
        await bind_context(session, context or TenantContext(user_id, organization_id))
        try:
            yield session
        except BaseException:
            await rollback(session)
            raise
        await commit(session)


# What a lost or unreachable PostgreSQL looks like, however deep in a chain of causes it is.
_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout, OSError)
# asyncpg's own names for the same (by name: asyncpg ships no type information).
_ASYNCPG_UNAVAILABLE = frozenset(
    {
        "CannotConnectNowError",
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "AdminShutdownError",
        "CrashShutdownError",
        "OperatorInterventionError",
        "TooManyConnectionsError",
        "InterfaceError",
    }
)


def database_unavailable(error: BaseException) -> bool:
    """True when `error` (or one of its causes) says PostgreSQL cannot be reached, not that a query is wrong.

    A refused or dropped connection, a server shutting down or starting up, a pool with no connection to give:
    the request can succeed later, so it is answered 503 with `Retry-After`, not 500.
    """
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, _UNAVAILABLE):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if type(current).__module__.startswith("asyncpg") and type(current).__name__ in _ASYNCPG_UNAVAILABLE:
            return True
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
        if isinstance(current, BaseExceptionGroup):
            pending += list(current.exceptions)
    return False


def get_database(request: Request) -> Database:
    """The app's `Database`, created by the app factory and stored on `app.state.database`."""
    database: Database = request.app.state.database
    return database


async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session: committed after the path function returns and before the response is sent.

    An exception from the path function rolls back. A failed COMMIT propagates, so the client gets a 500.
    """
    async with get_database(request).sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await rollback(session)
            raise
        await commit(session)


# `scope="function"` ends the dependency (the COMMIT) before the response is sent, not after.
DBSession = Annotated[AsyncSession, Depends(get_db_session, scope="function")]
