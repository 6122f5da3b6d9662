"""`autodevops keys`: the token encryption keyring and the webhook secret.

* `keys generate` prints a fresh key for `AUTODEVOPS_TOKEN_ENCRYPTION_KEY`.
* `keys rotate` re-encrypts every stored token and client secret under the current key (the service keeps
  running).
* `keys webhook-secret` prints a new webhook secret and the settings that accept old and new during a grace
  window; `keys apply-webhook-secret` installs the configured secret on the GitHub App.

See the runbook (`docs/runbook.md`) for the order of steps.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from autodevops.commands import fail

keys_app = typer.Typer(help="Rotate the token encryption key and the GitHub webhook secret.", no_args_is_help=True)


@keys_app.command("generate")
def generate(
    key_id: Annotated[str | None, typer.Option("--id", help="Key id (default: k + today's date).")] = None,
) -> None:
    """Print a new random AES-256 key as KEY_ID:BASE64URL."""
    from autodevops.crypto import CryptoError, Key

    try:
        key = Key.generate(key_id or "k" + datetime.now(UTC).strftime("%Y%m%d"))
    except CryptoError as error:
        raise fail(str(error)) from error
    typer.echo(key.spec())


@keys_app.command("rotate")
def rotate(
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Rows per transaction.")] = 200,
) -> None:
    """Re-encrypt every stored token, SSO client secret and GitLab secret under the current key. Safe while the
    service runs."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from autodevops.config import ConfigError, get_settings
    from autodevops.crypto import CryptoError, Keyring
    from autodevops.github.rotation import rotate_tokens
    from autodevops.gitlab.secrets import rotate_account_tokens, rotate_connection_secrets
    from autodevops.sso.rotation import rotate_client_secrets

    settings = get_settings()
    try:
        settings.check()
        keyring = Keyring.from_settings(settings)
    except (ConfigError, CryptoError) as error:
        raise fail(str(error)) from error

    async def run() -> None:
        # The owner role: rotation must reach every user's row, which RLS hides from the app role.
        engine = create_async_engine(settings.database_admin_url.get_secret_value(), pool_size=1)
        sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        try:
            reports = {
                "GitHub accounts": await rotate_tokens(sessionmaker, keyring, batch_size=batch_size),
                "single sign-on connections": await rotate_client_secrets(sessionmaker, keyring, batch_size=batch_size),
                "GitLab connections": await rotate_connection_secrets(sessionmaker, keyring, batch_size=batch_size),
                "GitLab accounts": await rotate_account_tokens(sessionmaker, keyring, batch_size=batch_size),
            }
        finally:
            await engine.dispose()
        failures = []
        for what, report in reports.items():
            typer.echo(
                f"key {keyring.current.id}: {report.scanned} {what}, {report.rotated} re-encrypted, "
                f"{report.current} already current, {report.changed} rewritten meanwhile by the service"
            )
            if report.failed:
                failures.append(f"{len(report.failed)} {what} could not be decrypted: {', '.join(report.failed[:20])}")
        if failures:
            raise fail("; ".join(failures))

    asyncio.run(run())


@keys_app.command("webhook-secret")
def webhook_secret(
    grace_hours: Annotated[float, typer.Option(min=0.1, max=720, help="How long the old secret stays valid.")] = 24,
) -> None:
    """Print a new webhook secret and the settings that accept both secrets until the grace window ends."""
    from autodevops.config import get_settings

    settings = get_settings()
    new = secrets.token_urlsafe(32)
    until = (datetime.now(UTC) + timedelta(hours=grace_hours)).replace(microsecond=0).isoformat()
    typer.echo(f"AUTODEVOPS_GITHUB_WEBHOOK_SECRET={new}")
    if settings.github_webhook_secret is not None:
        typer.echo(f"AUTODEVOPS_GITHUB_WEBHOOK_SECRET_PREVIOUS={settings.github_webhook_secret.get_secret_value()}")
        typer.echo(f"AUTODEVOPS_GITHUB_WEBHOOK_SECRET_PREVIOUS_UNTIL={until}")


@keys_app.command("apply-webhook-secret")
def apply_webhook_secret() -> None:
    """Set the GitHub App's webhook secret to AUTODEVOPS_GITHUB_WEBHOOK_SECRET (authenticated as the App)."""
    from autodevops.config import get_settings
    from autodevops.errors import AppError
    from autodevops.github.client import GitHubClient

    settings = get_settings()
    if settings.github_webhook_secret is None:
        raise fail("AUTODEVOPS_GITHUB_WEBHOOK_SECRET is not set")
    secret = settings.github_webhook_secret.get_secret_value()
    try:
        asyncio.run(GitHubClient(settings).set_app_webhook_secret(secret))
    except AppError as error:
        raise fail(error.message) from error
    typer.echo("the GitHub App now signs webhooks with AUTODEVOPS_GITHUB_WEBHOOK_SECRET")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
