"""Task registry: a job name (`domain.verb`) maps to its queue and its async handler.

Domains declare their tasks in their own `tasks.py` with `@task(...)`; the worker imports those modules
(`TASK_MODULES`) so the registry is complete before the first job is fetched.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.jobs.queues import get_queue

# Modules whose import registers the platform's tasks.
TASK_MODULES = (
    "autodevops.analysis.tasks",
    "autodevops.repository.tasks",
    "autodevops.pipeline.tasks",
    "autodevops.github.tasks",
    "autodevops.gitlab.tasks",
)

ProgressFn = Callable[..., Awaitable[None]]


@dataclass(slots=True)
class JobContext:
    """What a handler gets: the job's ids, its tenant-bound session, and a way to report progress.

    `session` acts for the job's organization (row-level security applies). The handler only flushes; the
    worker commits the handler's writes together with the job's `completed` state, so a job's effects and
    its completion are one transaction (a crash in between re-runs the job, never half-applies it).
    """

    job_id: uuid.UUID
    name: str
    queue: str
    organization_id: uuid.UUID
    payload: dict[str, Any]
    attempt: int
    correlation_id: str | None
    session: AsyncSession
    report: ProgressFn = field(repr=False)
    # Seconds the handler has left before the attempt times out (for subprocess timeouts, git clone...).
    deadline_s: float = 0.0

    async def progress(self, stage: str, percent: int | None = None, message: str | None = None) -> None:
        """Publish a live progress event (`cloning`, `analyzing`, `generating`...) for the SSE stream."""
        extra: dict[str, Any] = {}
        if percent is not None:
            extra["percent"] = max(0, min(100, int(percent)))
        if message:
            extra["message"] = message
        await self.report(stage, **extra)


Handler = Callable[[JobContext], Coroutine[Any, Any, None]]
# Called in the job's tenant session when the job moves to the dead-letter queue: (session, payload, error).
DeadLetterHook = Callable[[AsyncSession, dict[str, Any], str], Coroutine[Any, Any, None]]


@dataclass(frozen=True, slots=True)
class TaskSpec:
    name: str
    queue: str
    handler: Handler
    timeout_s: float
    max_attempts: int
    on_dead_letter: DeadLetterHook | None = None


_TASKS: dict[str, TaskSpec] = {}


def task(
    name: str,
    *,
    queue: str,
    timeout_s: float | None = None,
    max_attempts: int | None = None,
    on_dead_letter: DeadLetterHook | None = None,
) -> Callable[[Handler], Handler]:
    """Register `handler` as the task `name` on `queue` (timeout and attempts default to the queue's).

    `on_dead_letter` records the final failure in the domain's own rows (an analysis marked failed...).
    """
    spec_queue = get_queue(queue)
    if "." not in name:
        raise ValueError(f"task names are domain.verb, got {name!r}")

    def decorate(handler: Handler) -> Handler:
        existing = _TASKS.get(name)
        if existing is not None and existing.handler is not handler:
            raise ValueError(f"task {name!r} is already registered")
        _TASKS[name] = TaskSpec(
            name=name,
            queue=spec_queue.name,
            handler=handler,
            timeout_s=timeout_s if timeout_s is not None else spec_queue.timeout_s,
            max_attempts=max_attempts if max_attempts is not None else spec_queue.max_attempts,
            on_dead_letter=on_dead_letter,
        )
        return handler

    return decorate


def get_task(name: str) -> TaskSpec | None:
    """The registered task called `name`, if any."""
    return _TASKS.get(name)


def load_task_modules(extra: tuple[str, ...] = ()) -> None:
    """Import every module that registers tasks."""
    for module in (*TASK_MODULES, *extra):
        importlib.import_module(module)
