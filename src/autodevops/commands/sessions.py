"""`autodevops sessions`: end a user's browser sessions, or refuse them altogether.

* `sessions revoke EMAIL` signs the user out of every browser (their next request needs a new sign-in).
* `sessions disable EMAIL` does that and refuses new sign-ins until `sessions enable EMAIL`.

Personal API tokens are managed separately (`/api/v1/tokens`); these commands concern cookie sessions.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from autodevops.commands import checked_settings, fail

sessions_app = typer.Typer(help="Revoke or refuse users' browser sessions.", no_args_is_help=True)

Email = Annotated[str, typer.Argument(help="The user's email address.")]


def _apply(email: str, action: str) -> None:
    from autodevops.auth import service as auth_service
    from autodevops.auth import sessions
    from autodevops.db import Database, tenant_session
    from autodevops.errors import AppError

    settings = checked_settings()

    async def run() -> None:
        database = Database.from_settings(settings)
        try:
            async with tenant_session(database) as session:
                user = await auth_service.get_user_by_email(session, email)
            async with tenant_session(database, user_id=user.id) as session:
                if action == "revoke":
                    await sessions.revoke_sessions(session, user.id)
                elif action == "disable":
                    await sessions.disable_user(session, user.id)
                else:
                    await sessions.enable_user(session, user.id)
        finally:
            await database.dispose()

    try:
        asyncio.run(run())
    except AppError as error:
        raise fail(error.message) from error


@sessions_app.command("revoke")
def revoke(email: Email) -> None:
    """Sign the user out of every browser."""
    _apply(email, "revoke")
    typer.echo(f"every session of {email} is revoked")


@sessions_app.command("disable")
def disable(email: Email) -> None:
    """Revoke the user's sessions and refuse new sign-ins."""
    _apply(email, "disable")
    typer.echo(f"{email} is disabled: sessions revoked, sign-in refused")


@sessions_app.command("enable")
def enable(email: Email) -> None:
    """Allow a disabled user to sign in again."""
    _apply(email, "enable")
    typer.echo(f"{email} may sign in again")


def register(app: typer.Typer) -> None:
    app.add_typer(sessions_app, name="sessions")
