"""Engine commands: analyze, generate, bench, pins. Pure: no database, no network except `git clone`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach the engine commands to the root app."""
