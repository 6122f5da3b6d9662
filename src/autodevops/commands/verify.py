"""`autodevops verify`: run a GitHub Actions pipeline on this machine and report what passes.

It executes the repository's own code (its tests, build scripts and install hooks) with the caller's user
rights, as `act` does: run it only on repositories you trust, or inside a sandbox. The platform never calls it.
Exit status: 0 every job that ran is green, 1 a job is red, 2 bad input, 3 no job could run (all blocked).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

EXIT_BAD_INPUT = 2

_HELP = """Run the pipeline `generate` would write (or --workflow FILE) on this machine, job by job, and report
what passes: green only if a step really ran and exited 0; blocked when this machine lacks the toolchain,
service, Docker or network it needs.

WARNING: this executes the repository's own code (tests, build scripts, install hooks) with your user's rights.
Run it only on repositories you trust, or inside a sandbox (a throwaway VM or container).

Exit status: 0 every job that ran is green, 1 a job is red, 2 bad input, 3 no job could run."""


def register(app: typer.Typer) -> None:
    """Attach `verify` to the root app."""
    app.command("verify", help=_HELP)(verify_command)


def _error(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(EXIT_BAD_INPUT)


def _pairs(values: list[str], option: str, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip() or not rest.strip():
            raise _error(f"{option} takes {what}, got {value!r}")
        out[key.strip()] = rest.strip()
    return out


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "autodevops" / "verify"


def verify_command(
    path: Annotated[Path, typer.Argument(help="The repository directory.")],
    workflow: Annotated[
        list[Path] | None,
        typer.Option("--workflow", help="A committed workflow file to run instead of the generated pipeline."),
    ] = None,
    job: Annotated[list[str] | None, typer.Option("--job", help="Run only this job id (repeatable).")] = None,
    matrix: Annotated[
        list[str] | None, typer.Option("--matrix", help="KEY=VALUE: of the cells with KEY, run only those with VALUE.")
    ] = None,
    python: Annotated[
        list[str] | None, typer.Option("--python", help="X.Y=PATH: the interpreter for Python X.Y.")
    ] = None,
    node: Annotated[
        list[str] | None, typer.Option("--node", help="MAJOR=PATH: the node binary for Node.js MAJOR.")
    ] = None,
    service: Annotated[
        list[str] | None, typer.Option("--service", help="IMAGE=PORT: the local server for a service image.")
    ] = None,
    keep: Annotated[bool, typer.Option("--keep", help="Keep each job's working directory.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds a step may run before it is killed.")] = 1800,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    logs: Annotated[
        Path | None, typer.Option("--logs", help="Where to save every step's log (default: a temp dir).")
    ] = None,
    event: Annotated[str, typer.Option("--event", help="The triggering event: push, pull_request...")] = "push",
    branch: Annotated[
        str | None, typer.Option("--branch", help="The pushed branch (default: the repository's, else the workflow's).")
    ] = None,
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", help="Tools and download caches shared between runs.")
    ] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="Analysis date (YYYY-MM-DD) for the generated pipeline.")
    ] = None,
) -> None:
    from autodevops.engine.verify import VerifyOptions, verify_repository
    from autodevops.engine.verify.report import render_text
    from autodevops.engine.verify.toolchains import ToolchainConfig
    from autodevops.engine.verify.workflow import WorkflowError

    if not path.is_dir():
        raise _error(f"{path} is not a directory")
    if timeout <= 0:
        raise _error("--timeout must be a positive number of seconds")
    for file in workflow or []:
        if not file.is_file():
            raise _error(f"--workflow {file}: no such file")
    today = None
    if date is not None:
        try:
            today = dt.date.fromisoformat(date)
        except ValueError:
            raise _error(f"--date must be YYYY-MM-DD, got {date!r}") from None
    pythons = {k: Path(v) for k, v in _pairs(python or [], "--python", "X.Y=PATH").items()}
    nodes = {k: Path(v) for k, v in _pairs(node or [], "--node", "MAJOR=PATH").items()}
    for label, binary in [*pythons.items(), *nodes.items()]:
        if not binary.exists():
            raise _error(f"{label}={binary}: no such file")
    ports: dict[str, int] = {}
    for image, port in _pairs(service or [], "--service", "IMAGE=PORT").items():
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise _error(f"--service {image}={port}: the port must be a number from 1 to 65535")
        ports[image.lower()] = int(port)
    logs_dir = logs or Path(tempfile.mkdtemp(prefix="autodevops-verify-logs-"))
    config = ToolchainConfig(cache_dir=cache_dir or _default_cache(), python=pythons, node=nodes)
    if today is not None:
        config.today = today
    options = VerifyOptions(
        logs_dir=logs_dir,
        toolchains=config,
        jobs=tuple(job or ()),
        matrix=_pairs(matrix or [], "--matrix", "KEY=VALUE"),
        keep=keep,
        timeout=timeout,
        event=event,
        branch=branch,
        service_ports=ports,
    )
    if not as_json:
        typer.echo(f"logs: {logs_dir}", err=True)
    try:
        report = verify_repository(path, options, workflow_files=list(workflow or []), today=today)
    except WorkflowError as exc:
        raise _error(str(exc)) from None
    except OSError as exc:
        raise _error(f"cannot read the workflow: {exc}") from None
    typer.echo(json.dumps(report.to_dict(), indent=2) if as_json else render_text(report))
    raise typer.Exit(report.exit_code())
