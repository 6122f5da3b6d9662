"""`pipeline.generate`: generate the pipeline files from an analysis and store them with their validation.

The pipeline's id is derived from the job's id, so a duplicate delivery finds the row it already wrote and
does nothing.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.analysis import queries as analysis_queries
from autodevops.errors import Conflict
from autodevops.jobs.child import run_child
from autodevops.jobs.queues import CI_GENERATION
from autodevops.jobs.registry import JobContext, task
from autodevops.jobs.service import JobsRuntime, enqueue_job
from autodevops.models import Analysis, Job, Pipeline, Repository

NAME = "pipeline.generate"
_PIPELINE_ID_NAMESPACE = uuid.UUID("6f1c1d2e-8a4b-5c3d-9e2f-0a1b2c3d4e5f")


def pipeline_id_for(job_id: uuid.UUID) -> uuid.UUID:
    """The id of the pipeline a job writes: the same job always writes the same row."""
    return uuid.uuid5(_PIPELINE_ID_NAMESPACE, str(job_id))


async def submit(
    session: AsyncSession, runtime: JobsRuntime, repository: Repository, *, idempotency_key: str | None = None
) -> Job:
    """Queue generation from the repository's latest successful analysis (409 if it has none yet)."""
    analysis = await analysis_queries.latest_succeeded(session, repository.id)
    if analysis is None:
        raise Conflict("The repository has no successful analysis yet: analyze it first.")
    return await enqueue_job(
        session,
        runtime,
        organization_id=repository.organization_id,
        queue=CI_GENERATION.name,
        name=NAME,
        payload={"repository_id": str(repository.id), "analysis_id": str(analysis.id)},
        idempotency_key=idempotency_key,
    )


@task(NAME, queue=CI_GENERATION.name)
async def generate(ctx: JobContext) -> None:
    pipeline_id = pipeline_id_for(ctx.job_id)
    if await ctx.session.get(Pipeline, pipeline_id) is not None:
        return  # a duplicate delivery: this job's pipeline is already stored
    analysis = await ctx.session.get(Analysis, uuid.UUID(ctx.payload["analysis_id"]))
    if analysis is None or analysis.result is None:
        return  # the analysis (or its repository) was deleted meanwhile

    async def on_stage(stage: str, percent: int | None) -> None:
        await ctx.progress(stage, percent)

    stored: dict[str, Any] = dict(analysis.result)
    if not stored.get("default_branch"):
        # A source read through an API has no git metadata: the repository row knows the branch to trigger on.
        repository = await ctx.session.get(Repository, analysis.repository_id)
        stored["default_branch"] = repository.default_branch if repository is not None else None
    result: dict[str, Any] = await run_child(
        "autodevops.pipeline.child", [], stdin=json.dumps(stored).encode(), on_stage=on_stage
    )
    ctx.session.add(
        Pipeline(
            id=pipeline_id,
            organization_id=ctx.organization_id,
            repository_id=analysis.repository_id,
            analysis_id=analysis.id,
            files=result["files"],
            validation=result["validation"],
        )
    )
    await ctx.session.flush()
