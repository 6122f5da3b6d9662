"""`autodevops sso`: the operator's way back in when an organization's identity provider is unusable.

* `sso unenforce ORGANIZATION_ID` stops requiring single sign-on for the organization (members reach it from
  any session again, e.g. signed in with GitHub), recorded in its audit trail. Its owners can turn the
  requirement on again once the provider works.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

import typer

from autodevops.commands import checked_settings, fail

sso_app = typer.Typer(
    help="Single sign-on: recover an organization whose identity provider fails.", no_args_is_help=True
)


@sso_app.command("unenforce")
def unenforce(
    organization_id: Annotated[uuid.UUID, typer.Argument(help="The organization's id.")],
) -> None:
    """Stop requiring single sign-on for the organization (its connection stays configured)."""
    from autodevops.db import Database, tenant_session
    from autodevops.errors import AppError
    from autodevops.sso import service

    settings = checked_settings()

    async def run() -> None:
        database = Database.from_settings(settings)
        try:
            async with tenant_session(database, organization_id=organization_id) as session:
                await service.lift_enforcement(session, organization_id)
        finally:
            await database.dispose()

    try:
        asyncio.run(run())
    except AppError as error:
        raise fail(error.message) from error
    typer.echo(f"single sign-on is no longer required for organization {organization_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(sso_app, name="sso")
