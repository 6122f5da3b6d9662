"""The `autodevops` command line.

Commands live in `autodevops.commands.*`, one module per area, and import their heavy dependencies
inside the command body: `autodevops analyze` must start fast and never load the platform's stack.
"""

from __future__ import annotations

import typer

from autodevops.commands import engine, generate, jobs, keys, orgs, platform, serve, sessions, sso, verify, webhooks

app = typer.Typer(
    name="autodevops",
    help="Analyze a repository and generate the CI/CD pipeline it needs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
engine.register(app)
generate.register(app)
verify.register(app)
serve.register(app)
platform.register(app)
jobs.register(app)
keys.register(app)
sessions.register(app)
sso.register(app)
orgs.register(app)
webhooks.register(app)


def main() -> None:
    app()
