"""The queues, in priority order, with their timeouts and attempt budgets.

When a worker has a free slot it asks the queues in this order and takes the first job it finds, so under
contention analysis starts before sync and sync before ci_generation (strict priority: a lower queue runs
only when the ones above it have nothing ready).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    timeout_s: float  # per attempt, before the time scale
    max_attempts: int  # in total, the first run included


ANALYSIS: Final = QueueSpec("analysis", timeout_s=300.0, max_attempts=3)
SYNC: Final = QueueSpec("sync", timeout_s=120.0, max_attempts=5)
CI_GENERATION: Final = QueueSpec("ci_generation", timeout_s=180.0, max_attempts=2)

QUEUES: Final[tuple[QueueSpec, ...]] = (ANALYSIS, SYNC, CI_GENERATION)
QUEUE_NAMES: Final[tuple[str, ...]] = tuple(q.name for q in QUEUES)
BY_NAME: Final[dict[str, QueueSpec]] = {q.name: q for q in QUEUES}


def get_queue(name: str) -> QueueSpec:
    """The queue called `name`; `KeyError` names the valid ones."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown queue {name!r}; queues: {', '.join(QUEUE_NAMES)}") from None


def in_priority_order(names: list[str] | tuple[str, ...]) -> list[QueueSpec]:
    """The queues among `names`, highest priority first (the order the caller gave does not matter)."""
    wanted = {get_queue(n).name for n in names}
    return [q for q in QUEUES if q.name in wanted]
