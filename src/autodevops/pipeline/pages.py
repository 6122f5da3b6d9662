"""The pipeline page: generated files (highlighted), validation, the diff against the repository's CI,
download, generation, and the pull request that adds the pipeline."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import DiffLexer, TextLexer, get_lexer_for_filename
from pygments.util import ClassNotFound

from autodevops.analysis import queries as analysis_queries
from autodevops.github import service as github_service
from autodevops.github.client import GitHubClient
from autodevops.github.dependencies import GitHub
from autodevops.gitlab import service as gitlab_service
from autodevops.jobs import service as jobs_service
from autodevops.jobs.endpoints import jobs_runtime
from autodevops.jobs.progress import PIPELINE_STEPS, progress_context
from autodevops.models import Repository
from autodevops.organization import service as organization_service
from autodevops.pipeline import service
from autodevops.pipeline.summary import summarize
from autodevops.pipeline.tasks import NAME as GENERATION_JOB
from autodevops.pipeline.tasks import submit as submit_generation
from autodevops.repository import service as repository_service
from autodevops.ui import PageRoute, PageViewer, Viewer, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_formatter = HtmlFormatter(cssclass="highlight", wrapcode=True)
# Generated files get line numbers in a column of their own, so copying the code never copies them.
_numbered = HtmlFormatter(cssclass="highlight", wrapcode=True, linenos="table")


def highlighted(path: str, content: str) -> Markup:
    """`content` as highlighted HTML with line numbers. Pygments escapes the source itself, so the markup is
    safe to embed."""
    try:
        lexer = get_lexer_for_filename(path, stripnl=False)
    except ClassNotFound:
        lexer = TextLexer(stripnl=False)
    return Markup(highlight(content, lexer, _numbered))  # noqa: S704 - Pygments output escapes the source


def highlighted_diff(diff: str) -> Markup:
    return Markup(highlight(diff, DiffLexer(stripnl=False), _formatter))  # noqa: S704 - escaped by Pygments


async def _pipeline_context(viewer: Viewer, github: GitHubClient, repository: Repository) -> dict[str, Any]:
    """What the pipeline's body shows: its actions, files (with a summary of their jobs), validation, the
    comparison with the repository's CI and the pull or merge requests opened from it."""
    membership = await organization_service.get_membership(viewer.session, viewer.user, repository.organization_id)
    pipeline = await service.latest_pipeline(viewer.session, viewer.user, repository.id)
    files: list[dict[str, Any]] = []
    comparison = None
    if pipeline is not None:
        files = [
            {"path": str(f["path"]), "html": highlighted(str(f["path"]), str(f["content"]))} for f in pipeline.files
        ]
        comparison = await service.compare_with_repository(viewer.session, github, repository, pipeline)
    latest = await analysis_queries.latest_succeeded(viewer.session, repository.id)
    pull_requests = await github_service.list_pull_requests(viewer.session, viewer.user, repository.id)
    merge_requests = await gitlab_service.list_merge_requests(viewer.session, viewer.user, repository.id)
    # Already open for this pipeline: nothing left to do here, so no primary action (pressing again updates it).
    opened = pipeline is not None and (
        any(pr.state == "open" and pr.pipeline_id == pipeline.id for pr in pull_requests)
        or any(mr.state == "opened" and mr.pipeline_id == pipeline.id for mr in merge_requests)
    )
    return {
        "repository": repository,
        "membership": membership,
        "pipeline": pipeline,
        # A newer analysis than the pipeline's: regenerating is the next step, not the pull request.
        "stale": pipeline is not None and latest is not None and pipeline.analysis_id != latest.id,
        "files": files,
        "jobs": summarize(pipeline.files) if pipeline is not None else [],
        "validation": (pipeline.validation if pipeline else None) or {},
        "comparison": comparison,
        "diffs": [
            {"file": d, "html": highlighted_diff(d.diff) if d.diff else None}
            for d in (comparison.files if comparison else [])
        ],
        "pull_requests": pull_requests,
        "opened": opened,
        "is_github": repository.source == "github",
        "is_gitlab": repository.source == "gitlab",
        "merge_requests": merge_requests,
        "can_manage": membership.can_manage,
    }


@router.get("/repositories/{repository_id}/pipeline")
async def pipeline_page(request: Request, repository_id: uuid.UUID, viewer: PageViewer, github: GitHub) -> HTMLResponse:
    """The latest pipeline and, while one is being generated, that generation's live progress."""
    repository = await repository_service.get_repository(viewer.session, viewer.user, repository_id)
    context = await _pipeline_context(viewer, github, repository)
    pipeline = context["pipeline"]
    generation = await jobs_service.latest_for_repository(viewer.session, repository, GENERATION_JOB)
    # A generation still running, or one that failed after the pipeline shown, is followed here; a completed one
    # is the pipeline itself.
    following = (
        generation is not None
        and generation.state != "completed"
        and (pipeline is None or generation.created_at > pipeline.created_at)
    )
    context["progress"] = (
        progress_context(generation, PIPELINE_STEPS, result_url=f"/repositories/{repository.id}/pipeline/result")
        if generation is not None and following
        else None
    )
    return render(request, "pipeline.html", context, viewer=viewer, organization=context["membership"])


@router.get("/repositories/{repository_id}/pipeline/result")
async def pipeline_result_fragment(
    request: Request, repository_id: uuid.UUID, viewer: PageViewer, github: GitHub
) -> HTMLResponse:
    """The pipeline's body alone: the progress script swaps it in when a generation is done (no reload)."""
    repository = await repository_service.get_repository(viewer.session, viewer.user, repository_id)
    context = await _pipeline_context(viewer, github, repository)
    return render(request, "pipeline_body.html", context, viewer=viewer, fragment=True)


@router.post("/repositories/{repository_id}/pipeline/generate")
async def generate(request: Request, repository_id: uuid.UUID, viewer: PageViewer) -> Response:
    """Queue a generation and follow it on the pipeline page."""
    repository = await repository_service.get_repository(viewer.session, viewer.user, repository_id)
    await submit_generation(viewer.session, jobs_runtime(request), repository)
    return redirect(f"/repositories/{repository.id}/pipeline")


@router.get("/repositories/{repository_id}/pipeline/download")
async def download(repository_id: uuid.UUID, viewer: PageViewer) -> Response:
    """The generated files as a zip, laid out as they go into the repository."""
    pipeline = await service.require_latest_pipeline(viewer.session, viewer.user, repository_id)
    return Response(
        service.archive(pipeline),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{service.archive_name(pipeline)}"'},
    )


@router.post("/repositories/{repository_id}/pull-request")
async def open_pull_request(request: Request, repository_id: uuid.UUID, viewer: PageViewer, github: GitHub) -> Response:
    pull_request = await github_service.open_pull_request(viewer.session, github, viewer.user, repository_id)
    return redirect(
        f"/repositories/{repository_id}/pipeline#pull-requests",
        notice=f"Pull request #{pull_request.number} opened.",
        request=request,
    )
