"""`autodevops orgs ...`: operator commands on organizations (plans)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

import typer

from autodevops.commands import checked_settings, fail

orgs_app = typer.Typer(help="Manage organizations.", no_args_is_help=True)


@orgs_app.command("set-plan")
def set_plan(
    organization: Annotated[str, typer.Argument(help="The organization's id.")],
    plan: Annotated[str, typer.Argument(help="A plan named in AUTODEVOPS_PLANS (free, team, enterprise).")],
) -> None:
    """Put an organization on a plan (recorded in its audit trail). Uses the admin URL."""
    from autodevops.organization.plans import PlanError
    from autodevops.organization.plans import set_plan as change

    try:
        organization_id = uuid.UUID(organization)
    except ValueError:
        raise typer.BadParameter(f"not an organization id: {organization!r}") from None
    try:
        previous, new = asyncio.run(change(checked_settings(), organization_id, plan))
    except PlanError as error:
        raise fail(str(error)) from error
    typer.echo(f"organization {organization_id}: plan {previous} -> {new}")


def register(app: typer.Typer) -> None:
    app.add_typer(orgs_app, name="orgs")
