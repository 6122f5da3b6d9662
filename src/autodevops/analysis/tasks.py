"""`analysis.run`: fetch the repository, run the engine, store the analysis.

The request that starts an analysis creates its `analyses` row (`pending`) and the job in one transaction;
the job fills that row in. Re-running the job for an analysis that already succeeded does nothing, so a
duplicate delivery cannot store a second result.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.ai.service import Review, review_result, router_for, store_review
from autodevops.audit.service import record
from autodevops.config import get_settings
from autodevops.crypto import Keyring
from autodevops.engine.clone import CloneDir
from autodevops.gitlab.secrets import connection_token
from autodevops.jobs.child import run_child
from autodevops.jobs.queues import ANALYSIS
from autodevops.jobs.registry import JobContext, get_task, task
from autodevops.jobs.service import JobsRuntime, enqueue_job
from autodevops.models import Analysis, GitHubRepositoryLink, GitLabConnection, Job, Repository, utcnow
from autodevops.organization import quotas

NAME = "analysis.run"


async def submit(
    session: AsyncSession,
    runtime: JobsRuntime,
    repository: Repository,
    *,
    ref: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[Job, Analysis]:
    """Create a pending analysis of `repository` and the job that runs it (queued after COMMIT).

    `QuotaExceeded` when the organization's plan allows no more analyses today.
    """
    if runtime.settings is not None:
        await quotas.check_analyses_today(session, runtime.settings, repository.organization_id)
    analysis_id = uuid.uuid4()
    job = await enqueue_job(
        session,
        runtime,
        organization_id=repository.organization_id,
        queue=ANALYSIS.name,
        name=NAME,
        payload={"repository_id": str(repository.id), "analysis_id": str(analysis_id)},
        idempotency_key=idempotency_key,
    )
    analysis = Analysis(
        id=analysis_id,
        organization_id=repository.organization_id,
        repository_id=repository.id,
        status="pending",
        ref=ref or repository.default_branch,
        job_id=job.id,
    )
    session.add(analysis)
    await session.flush()
    return job, analysis


async def submit_for_webhook(session: AsyncSession, runtime: JobsRuntime, repository: Repository, *, ref: str) -> bool:
    """`submit` for a push: over the plan's limit the analysis is skipped and recorded in the organization's
    audit trail (`analysis.skipped`), not lost silently. Returns whether it was queued."""
    try:
        async with session.begin_nested():
            await submit(session, runtime, repository, ref=ref)
    except quotas.QuotaExceeded as exceeded:
        await record(
            session,
            "analysis.skipped",
            user_id=None,
            organization_id=repository.organization_id,
            target_type="repository",
            target_id=repository.id,
            data={"ref": ref[:255], "reason": "quota_exceeded", **(exceeded.detail or {})},
        )
        return False
    return True


async def _on_stage(ctx: JobContext, stage: str, percent: int | None) -> None:
    await ctx.progress(stage, percent)


async def mark_failed(session: AsyncSession, payload: dict[str, Any], error: str) -> None:
    """When the job is dead-lettered: the analysis failed, with the job's last error."""
    analysis = await session.get(Analysis, uuid.UUID(payload["analysis_id"]))
    if analysis is not None and analysis.status != "succeeded":
        analysis.status = "failed"
        analysis.error = error
        analysis.finished_at = utcnow()
        await session.flush()


async def _review_with_ai(
    ctx: JobContext, analysis: Analysis, result: dict[str, Any], digest: dict[str, Any] | None
) -> Review:
    """The AI step after the rules: never fails the job; re-schedules it only while every AI entry is over
    quota and attempts remain (see `autodevops.ai.service`). Runs before the analysis row is locked."""
    settings = get_settings()
    spec = get_task(NAME)
    router = router_for(settings)
    if router is not None:
        await ctx.progress("reviewing", 90)
    return await review_result(
        ctx.session,
        settings,
        analysis,
        result,
        digest,
        router=router,
        last_attempt=spec is None or ctx.attempt >= spec.max_attempts,
    )


@task(NAME, queue=ANALYSIS.name, on_dead_letter=mark_failed)
async def run(ctx: JobContext) -> None:
    analysis_id = uuid.UUID(ctx.payload["analysis_id"])
    # No row lock while the repository is fetched (minutes): it is taken below, around the write.
    analysis = await ctx.session.get(Analysis, analysis_id)
    if analysis is None or analysis.status == "succeeded":
        return  # deleted with its repository, or a duplicate delivery of finished work
    repository = await ctx.session.get(Repository, analysis.repository_id)
    if repository is None:
        return
    # Written with the result: an UPDATE now would take the row lock for the whole fetch.
    started_at = analysis.started_at or utcnow()

    async def on_stage(stage: str, percent: int | None) -> None:
        await _on_stage(ctx, stage, percent)

    ref = [f"--ref={analysis.ref}"] if analysis.ref else []
    link = await ctx.session.get(GitHubRepositoryLink, repository.id)
    gitlab = await ctx.session.get(GitLabConnection, repository.id) if link is None else None
    result: dict[str, Any]
    if link is not None:  # connected through the GitHub App: read over its API, no clone, no token in git
        args = ["--installation", str(link.installation_id), "--repo", link.full_name, *ref]
        result = await run_child("autodevops.github.analysis_child", args, on_stage=on_stage)
    elif gitlab is not None:  # a GitLab project: read over its repository API with its token (on stdin)
        token = connection_token(Keyring.from_settings(get_settings()), gitlab)
        args = ["--project-id", str(gitlab.project_id), "--path", gitlab.full_path, *ref]
        stdin = (token + "\n").encode()
        result = await run_child("autodevops.gitlab.analysis_child", args, stdin=stdin, on_stage=on_stage)
    else:
        # The worker owns the clone directory, not the child: however the child ends (killed at the job's
        # timeout included), the directory goes with this block.
        workdir = CloneDir()
        try:
            args = [repository.clone_url, "--workdir", workdir.path, *ref]
            args += ["--timeout", f"{max(1.0, ctx.deadline_s):.0f}"]
            result = await run_child("autodevops.analysis.child", args, on_stage=on_stage)
        finally:
            await asyncio.shield(asyncio.to_thread(workdir.close))  # a large checkout takes a while to remove
    # The AI review (provider calls: seconds) before the row lock, which is held only for the write below.
    review = await _review_with_ai(ctx, analysis, result["analysis"], result.get("ai_digest"))
    analysis = await ctx.session.get(Analysis, analysis_id, with_for_update=True, populate_existing=True)
    if analysis is None or analysis.status == "succeeded":
        return  # deleted meanwhile, or stored by another delivery
    analysis.status = "running"
    analysis.started_at = started_at
    analysis.commit_sha = result.get("commit_sha")
    await store_review(ctx.session, analysis, review)
    analysis.status = "succeeded"
    analysis.error = None
    analysis.finished_at = utcnow()
    await ctx.session.flush()
