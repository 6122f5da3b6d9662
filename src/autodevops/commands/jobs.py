"""Job-system commands: `autodevops worker` and `autodevops dlq list|show|requeue|purge`.

Heavy modules (the queue library, SQLAlchemy) are imported inside the command bodies.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from autodevops.commands import checked_settings, fail

if TYPE_CHECKING:
    from autodevops.jobs.operations import Databases
    from autodevops.jobs.service import JobsRuntime

T = TypeVar("T")

dlq_app = typer.Typer(help="Inspect and manage the dead-letter queue (jobs that used up their attempts).")


def register(app: typer.Typer) -> None:
    """Attach `worker` and `dlq` to the root app."""
    app.command("worker")(worker)
    app.add_typer(dlq_app, name="dlq")


def worker(
    queues: Annotated[
        list[str] | None,
        typer.Option(
            "--queues", "-q", help="Queues to serve (repeat or comma-separate): analysis, sync, ci_generation."
        ),
    ] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1, max=256, help="Jobs run at once.")] = 4,
    metrics_port: Annotated[
        int | None, typer.Option("--metrics-port", min=1, max=65535, help="Serve Prometheus metrics on this port.")
    ] = None,
) -> None:
    """Run a worker: take jobs by priority (analysis, then sync, then ci_generation) until SIGTERM."""
    from autodevops.jobs.queues import QUEUE_NAMES
    from autodevops.worker import main

    chosen = [name.strip() for value in (queues or []) for name in value.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(QUEUE_NAMES))
    if unknown:
        typer.echo(f"error: unknown queue(s) {', '.join(unknown)}; queues: {', '.join(QUEUE_NAMES)}", err=True)
        raise typer.Exit(2)
    main(queues=chosen or QUEUE_NAMES, concurrency=concurrency, metrics_port=metrics_port, settings=checked_settings())


def _run(action: Callable[[Databases, JobsRuntime], Awaitable[T]]) -> T:
    from autodevops.db import Database
    from autodevops.jobs.operations import Databases
    from autodevops.jobs.service import JobsRuntime

    settings = checked_settings(maintenance=True)

    async def go() -> T:
        databases = Databases(
            app=Database(settings.database_url.get_secret_value(), pool_size=2, max_overflow=0),
            maintenance=Database.maintenance(settings),
        )
        runtime = JobsRuntime.from_settings(settings)
        try:
            return await action(databases, runtime)
        finally:
            await runtime.close()
            await databases.app.dispose()
            await databases.maintenance.dispose()

    return asyncio.run(go())


def _job_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise typer.BadParameter(f"not a job id: {value!r}") from None


@dlq_app.command("list")
def dlq_list(
    queue: Annotated[str | None, typer.Option("--queue", help="Only this queue's dead letters.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List dead letters across organizations, newest first."""
    from autodevops.jobs.operations import list_dead_letters

    letters = _run(lambda db, _rt: list_dead_letters(db, queue=queue))
    if as_json:
        typer.echo(json.dumps([asdict(d) for d in letters], default=str, indent=2))
        return
    if not letters:
        typer.echo("the dead-letter queue is empty")
        return
    for d in letters:
        error = (d.last_error or "").splitlines()[0][:80] if d.last_error else ""
        typer.echo(f"{d.id}  {d.queue:<13} {d.name:<20} attempts={d.attempts}  {d.finished_at or '-'}  {error}")


@dlq_app.command("show")
def dlq_show(job_id: Annotated[str, typer.Argument(help="The job id.")]) -> None:
    """Show one dead letter: error, attempts, payload, organization, correlation id."""
    from autodevops.jobs.operations import show_dead_letter

    target = _job_id(job_id)
    letter = _run(lambda db, _rt: show_dead_letter(db, target))
    if letter is None:
        raise fail(f"no dead letter {job_id}")
    typer.echo(json.dumps(asdict(letter), default=str, indent=2))


@dlq_app.command("requeue")
def dlq_requeue(
    job_ids: Annotated[list[str] | None, typer.Argument(help="Job ids to requeue.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Requeue every dead letter.")] = False,
) -> None:
    """Requeue dead letters with a fresh attempt budget."""
    from autodevops.jobs.operations import requeue

    targets = _targets(job_ids, all_)
    done = _run(lambda db, rt: requeue(db, rt, targets))
    typer.echo(f"requeued {len(done)} job(s)")
    if targets is not None and len(done) < len(targets):
        missing = sorted(str(t) for t in set(targets) - set(done))
        raise fail(f"not in the dead-letter queue: {', '.join(missing)}")


@dlq_app.command("purge")
def dlq_purge(
    job_ids: Annotated[list[str] | None, typer.Argument(help="Job ids to delete.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Delete every dead letter.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation with --all.")] = False,
) -> None:
    """Delete dead letters for good."""
    from autodevops.jobs.operations import purge

    targets = _targets(job_ids, all_)
    if targets is None and not yes:
        typer.confirm("Delete every dead letter?", abort=True)
    count = _run(lambda db, rt: purge(db, rt, targets))
    typer.echo(f"purged {count} job(s)")


def _targets(job_ids: list[str] | None, all_: bool) -> list[uuid.UUID] | None:
    if all_ and job_ids:
        raise typer.BadParameter("give job ids or --all, not both")
    if not all_ and not job_ids:
        raise typer.BadParameter("give job ids or --all")
    return None if all_ else [_job_id(j) for j in job_ids or []]
