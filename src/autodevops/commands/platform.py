"""Platform administration commands: `migrate`, `users create`, `users login-link`, `tokens create`.

They read the same `AUTODEVOPS_*` settings as the server. `migrate` uses the admin (owner) URL; the others
connect as the app role, like the API, so they obey the same row-level security. Making a user a platform
administrator is the one write the app role may not do (it has no privilege on `users.is_admin`): `users create
--admin` does it with the admin URL.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

import typer

from autodevops.commands import checked_settings, fail

users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
tokens_app = typer.Typer(help="Manage personal API tokens.", no_args_is_help=True)


def migrate() -> None:
    """Bring the database up to date: schema, row-level security policies, the app role and its grants."""
    from autodevops.migrate import MigrationError
    from autodevops.migrate import migrate as run_migrate

    try:
        report = asyncio.run(run_migrate(checked_settings(maintenance=True)))
    except MigrationError as error:
        raise fail(str(error)) from error
    if report.role_created:
        typer.echo(f"created app role {report.app_role}")
    if report.revision_before == report.revision_after:
        typer.echo(f"database {report.database} is up to date (revision {report.revision_after})")
    else:
        typer.echo(f"database {report.database}: {report.revision_before or 'empty'} -> {report.revision_after}")


@users_app.command("create")
def create_user(
    email: Annotated[str, typer.Argument(help="The user's email address.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user a platform administrator.")] = False,
) -> None:
    """Create a user (prints their id)."""
    from autodevops.auth import service
    from autodevops.db import Database, tenant_session
    from autodevops.errors import AppError

    async def run() -> str:
        settings = checked_settings()
        database = Database.from_settings(settings)
        try:
            async with tenant_session(database) as session:
                user = await service.create_user(session, email, name=name)
        finally:
            await database.dispose()
        if admin:
            await _make_platform_admin(settings.database_admin_url.get_secret_value(), user.id)
        return str(user.id)

    try:
        typer.echo(asyncio.run(run()))
    except (AppError, ValueError) as error:
        raise fail(str(error)) from error


@users_app.command("login-link")
def login_link(
    email: Annotated[str, typer.Argument(help="Whose link: the user's email address.")],
    expires_in_minutes: Annotated[
        int, typer.Option(help="How long the link works, in minutes (at most 1440).", min=1, max=1440)
    ] = 15,
) -> None:
    """Print a one-time sign-in URL for the dashboard (no GitHub or SSO needed). It works once, then expires."""
    from datetime import timedelta

    from autodevops.auth import login_links, service
    from autodevops.db import Database, bind_tenant, tenant_session
    from autodevops.errors import AppError

    async def run() -> tuple[str, str]:
        settings = checked_settings()
        database = Database.from_settings(settings)
        try:
            async with tenant_session(database) as session:
                user = await service.get_user_by_email(session, email)
                await bind_tenant(session, user_id=user.id)
                url, expires_at = await login_links.create_link(
                    session, settings, user, ttl=timedelta(minutes=expires_in_minutes)
                )
            return url, expires_at.strftime("%Y-%m-%d %H:%M UTC")
        finally:
            await database.dispose()

    try:
        url, expires = asyncio.run(run())
    except (AppError, ValueError) as error:
        raise fail(str(error)) from error
    typer.echo(url)
    typer.echo(f"Open it in a browser before {expires}; it works once.", err=True)


async def _make_platform_admin(admin_url: str, user_id: uuid.UUID) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(admin_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE users SET is_admin = true WHERE id = :id"), {"id": user_id})
    finally:
        await engine.dispose()


@tokens_app.command("create")
def create_token(
    email: Annotated[str, typer.Argument(help="Whose token: the user's email address.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    expires_in_days: Annotated[int | None, typer.Option(help="Expiry in days (default: never).", min=1)] = None,
) -> None:
    """Create a personal API token and print it. It is shown only this once."""
    from autodevops.auth import service
    from autodevops.db import Database, tenant_session
    from autodevops.errors import AppError

    async def run() -> str:
        database = Database.from_settings(checked_settings())
        try:
            async with tenant_session(database) as session:
                user = await service.get_user_by_email(session, email)  # binds the session to the user
                _, secret = await service.create_token(session, user, name, expires_in_days=expires_in_days)
            return secret
        finally:
            await database.dispose()

    try:
        typer.echo(asyncio.run(run()))
    except (AppError, ValueError) as error:
        raise fail(str(error)) from error


def register(app: typer.Typer) -> None:
    """Attach the platform commands to the root app."""
    app.command("migrate")(migrate)
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")
