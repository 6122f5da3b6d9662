"""How a job's live events map onto the steps a person follows on the dashboard.

The worker reports fine-grained stages (`cloning`, `listing`, `analyzing`, `storing`...); a page shows a few
steps. The mapping lives here, next to the stages, and is handed to the page's script as data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from autodevops.jobs.events import STAGES
from autodevops.models import Job


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    label: str
    stages: tuple[str, ...]


ANALYSIS_STEPS = (
    Step("queued", "Queued", ("queued",)),
    Step("fetching", "Fetching", ("active", "syncing", "cloning", "listing")),
    Step("analyzing", "Analyzing", ("analyzing", "storing")),
    Step("reviewing", "AI review", ("reviewing",)),
    Step("done", "Done", ("done",)),
)
PIPELINE_STEPS = (
    Step("queued", "Queued", ("queued",)),
    Step("generating", "Generating", ("active", "generating")),
    Step("validating", "Validating", ("validating", "storing")),
    Step("done", "Done", ("done",)),
)
GENERIC_STEPS = (
    Step("queued", "Queued", ("queued",)),
    Step("running", "Running", ("active", "syncing", "cloning", "listing", "analyzing", "generating", "storing")),
    Step("done", "Done", ("done",)),
)
_STEPS_BY_JOB = {"analysis.run": ANALYSIS_STEPS, "pipeline.generate": PIPELINE_STEPS}
# The steps already passed when a page is rendered, from the durable job state (no live event yet).
_STEP_OF_STATE = {"pending": 0, "active": 1, "failed": 1, "completed": -1, "dead_letter": -1}


def steps_for(job: Job) -> tuple[Step, ...]:
    return _STEPS_BY_JOB.get(job.name, GENERIC_STEPS)


def progress_context(
    job: Job, steps: tuple[Step, ...] | None = None, *, result_url: str | None = None, next_url: str | None = None
) -> dict[str, Any]:
    """What the progress template needs: the steps, the stage → step map, the events URL, the job state."""
    steps = steps or steps_for(job)
    stage_map = {stage: step.name for step in steps for stage in step.stages}
    # Every stage the worker may report gets a listener, mapped or not (unmapped ones are logged only).
    stages = sorted(set(STAGES) | set(stage_map) | {"retrying", "failed", "done"})
    current = _STEP_OF_STATE.get(job.state, 0)
    finished = job.state in ("completed", "dead_letter")
    return {
        "job": job,
        "steps": steps,
        "current": len(steps) - 1 if job.state == "completed" else current,
        "finished": finished,
        "events_url": f"/api/v1/jobs/{job.id}/events",
        "stage_map": json.dumps(stage_map, separators=(",", ":")),
        "stages": " ".join(stages),
        "result_url": result_url,
        "next_url": next_url,
    }
