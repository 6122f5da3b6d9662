"""The repository header card: where a repository stands and the one next step it needs.

A repository goes Analyze → Generate pipeline → Open pull request (or merge request). The card shows the
latest analysis, the commit it read, the stacks it found, and exactly one primary action for the state the
repository is in. While an analysis or a generation runs the card asks to be refreshed (the page polls the
card alone), so the next action appears as soon as the work is done.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.analysis import service as analysis_service
from autodevops.github import service as github_service
from autodevops.gitlab import service as gitlab_service
from autodevops.jobs import service as jobs_service
from autodevops.models import Analysis, Job, Pipeline, Repository, User
from autodevops.pipeline import service as pipeline_service
from autodevops.pipeline.tasks import NAME as GENERATION_JOB

_RUNNING_ANALYSIS = ("pending", "running")
_RUNNING_JOB = ("pending", "active", "failed")  # `failed` here is an attempt that will be retried


@dataclass(frozen=True, slots=True)
class Action:
    """The card's primary action: a form posted to `url` (`post`) or a link."""

    label: str
    url: str
    post: bool = False


@dataclass(frozen=True, slots=True)
class StackChip:
    label: str  # "python · uv"
    path: str  # the stack's root, "." for the repository's root


@dataclass
class Header:
    repository: Repository
    state: str  # the status word's CSS kind: pending, running, failed, succeeded, none
    status: str  # what the card says: "Not analyzed yet", "Analyzing", "Pipeline ready"...
    primary: Action
    busy: bool  # an analysis or generation is running: the card refreshes itself
    analysis: Analysis | None  # the latest successful analysis
    commit_sha: str | None
    analyzed_at: datetime | None
    stacks: list[StackChip] = field(default_factory=list)
    secondary: list[Action] = field(default_factory=list)


def stack_chips(result: dict[str, Any] | None) -> list[StackChip]:
    """One chip per stack of an analysis result: its language and package manager."""
    chips: list[StackChip] = []
    for stack in (result or {}).get("stacks") or []:
        if not isinstance(stack, dict):
            continue
        parts = [str(part) for part in (stack.get("language"), stack.get("package_manager")) if part]
        if parts:
            chips.append(StackChip(" · ".join(parts), str(stack.get("path") or ".")))
    return chips


def decide(
    repository: Repository,
    *,
    latest: Analysis | None,
    succeeded: Analysis | None,
    pipeline: Pipeline | None,
    generation: Job | None,
    open_request: tuple[str, str] | None,
    can_manage: bool,
) -> tuple[str, str, Action, bool]:
    """(state, status, primary action, busy) for a repository; one primary action whatever the state.

    `open_request` is (label, url) of the pull or merge request already open for the latest pipeline.
    """
    base = f"/repositories/{repository.id}"
    if latest is not None and latest.status in _RUNNING_ANALYSIS:
        return "running", "Analyzing", Action("Follow the analysis", f"/analyses/{latest.id}"), True
    if generation is not None and generation.state in _RUNNING_JOB:
        return "running", "Generating the pipeline", Action("Follow the generation", f"{base}/pipeline"), True
    if succeeded is None:
        failed = latest is not None and latest.status == "failed"
        return (
            "failed" if failed else "none",
            "Analysis failed" if failed else "Not analyzed yet",
            Action("Analyze again" if failed else "Analyze", f"{base}/analyze", post=True),
            False,
        )
    if pipeline is None or pipeline.analysis_id != succeeded.id:
        status = "Analyzed" if pipeline is None else "Analyzed since the last pipeline"
        return "succeeded", status, Action("Generate pipeline", f"{base}/pipeline/generate", post=True), False
    if open_request is not None:
        label, url = open_request
        return "succeeded", f"{label} open", Action(f"View {label}", url), False
    if can_manage and repository.source == "github":
        return "succeeded", "Pipeline ready", Action("Open pull request", f"{base}/pull-request", post=True), False
    if can_manage and repository.source == "gitlab":
        return "succeeded", "Pipeline ready", Action("Open merge request", f"{base}/merge-request", post=True), False
    return "succeeded", "Pipeline ready", Action("View pipeline", f"{base}/pipeline"), False


async def _open_request(
    session: AsyncSession, user: User, repository: Repository, pipeline: Pipeline | None
) -> tuple[str, str] | None:
    """(label, url) of the pull or merge request open for `pipeline`, if one is."""
    if pipeline is None:
        return None
    if repository.source == "github":
        for pr in await github_service.list_pull_requests(session, user, repository.id):
            if pr.state == "open" and pr.pipeline_id == pipeline.id:
                return (f"pull request #{pr.number}", pr.url)
    if repository.source == "gitlab":
        for mr in await gitlab_service.list_merge_requests(session, user, repository.id):
            if mr.state == "opened" and mr.pipeline_id == pipeline.id:
                return (f"merge request !{mr.iid}", mr.url)
    return None


async def repository_header(
    session: AsyncSession, user: User, repository: Repository, *, can_manage: bool, latest: Analysis | None
) -> Header:
    """The header card of `repository` as `user` sees it (`latest` is its newest analysis, if any)."""
    succeeded = latest if latest is not None and latest.status == "succeeded" else None
    if succeeded is None and latest is not None:
        history = await analysis_service.list_analyses(
            session, user, repository_id=repository.id, organization_id=None, limit=20, offset=0
        )
        succeeded = next((a for a in history if a.status == "succeeded"), None)
    if succeeded is not None:
        succeeded = await analysis_service.get_analysis(session, user, succeeded.id)  # listings omit the result
    pipeline = await pipeline_service.latest_pipeline(session, user, repository.id)
    generation = await jobs_service.latest_for_repository(session, repository, GENERATION_JOB)
    open_request = await _open_request(session, user, repository, pipeline)
    state, status, primary, busy = decide(
        repository,
        latest=latest,
        succeeded=succeeded,
        pipeline=pipeline,
        generation=generation,
        open_request=open_request,
        can_manage=can_manage,
    )
    base = f"/repositories/{repository.id}"
    secondary = []
    if primary.url != f"{base}/analyze" and not (latest is not None and latest.status in _RUNNING_ANALYSIS):
        secondary.append(Action("Analyze again", f"{base}/analyze", post=True))
    if primary.url != f"{base}/pipeline":
        secondary.append(Action("Pipeline", f"{base}/pipeline"))
    return Header(
        repository=repository,
        state=state,
        status=status,
        primary=primary,
        busy=busy,
        analysis=succeeded,
        commit_sha=succeeded.commit_sha if succeeded else None,
        analyzed_at=succeeded.finished_at if succeeded else None,
        stacks=stack_chips(succeeded.result if succeeded else None),
        secondary=secondary,
    )
