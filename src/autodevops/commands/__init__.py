"""CLI command groups, registered on the root app by `autodevops.cli`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from autodevops.config import Settings


def fail(message: str) -> typer.Exit:
    """Print `error: message` on stderr; the caller raises the returned exit (status 1)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def checked_settings(*, maintenance: bool = False) -> Settings:
    """The `AUTODEVOPS_*` settings, refused (exit status 2, reason on stderr) when `Settings.check` fails.

    `maintenance`: the command uses the maintenance role (`migrate`, `dlq`), whose URL production requires.

    Settings are imported here, not at module level: `autodevops analyze` must not load the platform's stack.
    """
    from pydantic import ValidationError

    from autodevops.config import ConfigError, get_settings

    try:
        settings = get_settings()
    except ValidationError as error:
        # One line per bad setting, named as it is set (no traceback, no pydantic boilerplate).
        for problem in error.errors(include_url=False):
            field = "_".join(str(part) for part in problem["loc"]).upper()
            message = str(problem["msg"]).removeprefix("Value error, ")
            typer.echo(message if message.startswith("AUTODEVOPS_") else f"AUTODEVOPS_{field}: {message}", err=True)
        raise typer.Exit(2) from None
    try:
        settings.check(maintenance=maintenance)
    except ConfigError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from error
    return settings
