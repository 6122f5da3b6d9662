"""`autodevops webhooks prune`: delete the records of webhook deliveries older than the retention.

The worker does the same every `AUTODEVOPS_WEBHOOK_DELIVERY_PRUNE_INTERVAL_S`; the command is for a deployment
without a worker, or to prune at once after lowering `AUTODEVOPS_WEBHOOK_DELIVERY_RETENTION_DAYS`.
"""

from __future__ import annotations

import asyncio

import typer

from autodevops.commands import checked_settings

webhooks_app = typer.Typer(help="Maintain the records of received webhook deliveries.", no_args_is_help=True)


@webhooks_app.command("prune")
def prune() -> None:
    """Delete GitHub and GitLab delivery records older than the retention (in batches; safe while serving)."""
    from autodevops.db import Database
    from autodevops.webhook_retention import prune_webhook_deliveries

    settings = checked_settings()

    async def run() -> None:
        database = Database.from_settings(settings)
        try:
            result = await prune_webhook_deliveries(database, settings)
        finally:
            await database.dispose()
        counts = ", ".join(f"{count} {provider}" for provider, count in result.deleted.items())
        typer.echo(
            f"deleted {result.total} delivery record(s) received before {result.cutoff:%Y-%m-%d %H:%M} UTC ({counts})"
        )

    asyncio.run(run())


def register(app: typer.Typer) -> None:
    app.add_typer(webhooks_app, name="webhooks")
