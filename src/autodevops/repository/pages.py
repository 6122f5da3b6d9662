"""Repository pages: the organization's repositories, connecting one, and a repository's latest analysis."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from autodevops.ai.status import analysis_review
from autodevops.analysis import service as analysis_service
from autodevops.analysis.tasks import submit as submit_analysis
from autodevops.config import Settings
from autodevops.crypto import Keyring
from autodevops.errors import AppError
from autodevops.github import service as github_service
from autodevops.github.client import GitHubClient
from autodevops.github.dependencies import GitHub, TokenKeyring
from autodevops.github.schemas import GitHubRepositoryConnect
from autodevops.gitlab import service as gitlab_service
from autodevops.gitlab.endpoints import GitLab
from autodevops.jobs.endpoints import jobs_runtime
from autodevops.models import Analysis, GitLabConnection
from autodevops.organization import quotas
from autodevops.organization import service as organization_service
from autodevops.repository import service
from autodevops.repository.git_url import GitURLPolicy
from autodevops.repository.header import repository_header
from autodevops.repository.schemas import RepositoryCreate
from autodevops.ui import (
    PageRoute,
    PageViewer,
    Viewer,
    form_data,
    form_problem,
    is_form_mistake,
    parse_form,
    redirect,
    render,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

REPOSITORIES_PAGE = 200
HISTORY = 20


def _latest_by_repository(analyses: list[Analysis]) -> dict[uuid.UUID, Analysis]:
    latest: dict[uuid.UUID, Analysis] = {}
    for analysis in analyses:  # newest first: the first one seen per repository is its latest
        latest.setdefault(analysis.repository_id, analysis)
    return latest


@router.get("/orgs/{organization_id}/repositories")
async def repositories_page(request: Request, organization_id: uuid.UUID, viewer: PageViewer) -> HTMLResponse:
    return await render_repositories(request, organization_id, viewer)


async def render_repositories(
    request: Request,
    organization_id: uuid.UUID,
    viewer: Viewer,
    *,
    refused: AppError | None = None,
    form: str | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The repositories page; after a connect form refused (`refused`: over the plan's repositories, an invalid
    or refused URL...), the same page with the reason next to that `form` and what was typed in it (`values`),
    answered with the refusal's status."""
    membership = await organization_service.get_membership(viewer.session, viewer.user, organization_id)
    settings: Settings = request.app.state.settings
    repositories = await service.list_repositories(
        viewer.session, viewer.user, organization_id=organization_id, limit=REPOSITORIES_PAGE, offset=0
    )
    analyses = await analysis_service.list_analyses(
        viewer.session,
        viewer.user,
        repository_id=None,
        organization_id=organization_id,
        limit=REPOSITORIES_PAGE * 5,
        offset=0,
    )
    context = {
        "repositories": repositories,
        "latest": _latest_by_repository(list(analyses)),
        "can_manage": membership.can_manage,
        "repository_limit": await quotas.repositories(viewer.session, settings, organization_id),
        "refused": form_problem(refused) if refused else None,
        "refused_form": form,
        "values": values or {},
    }
    status = refused.status_code if refused else 200
    return render(request, "repositories.html", context, viewer=viewer, organization=membership, status_code=status)


@router.post("/orgs/{organization_id}/repositories")
async def connect_by_url(request: Request, organization_id: uuid.UUID, viewer: PageViewer) -> Response:
    fields: dict[str, Any] = await form_data(request)
    if not fields.get("default_branch"):
        fields.pop("default_branch", None)
    settings: Settings = request.app.state.settings
    try:
        body = parse_form(RepositoryCreate, {**fields, "organization_id": str(organization_id)})
        repository = await service.connect_repository(
            viewer.session,
            viewer.user,
            body.organization_id,
            body.url,
            default_branch=body.default_branch,
            url_policy=GitURLPolicy.from_settings(settings),
            settings=settings,
        )
    except AppError as refused:
        if not is_form_mistake(refused):
            raise
        return await render_repositories(request, organization_id, viewer, refused=refused, form="url", values=fields)
    return redirect(f"/repositories/{repository.id}", notice=f"Connected {repository.name}.", request=request)


@router.get("/orgs/{organization_id}/repositories/github")
async def github_repositories_page(
    request: Request, organization_id: uuid.UUID, viewer: PageViewer, github: GitHub, keyring: TokenKeyring
) -> HTMLResponse:
    return await _render_github_repositories(request, organization_id, viewer, github, keyring)


async def _render_github_repositories(
    request: Request,
    organization_id: uuid.UUID,
    viewer: Viewer,
    github: GitHubClient,
    keyring: Keyring,
    *,
    refused: AppError | None = None,
) -> HTMLResponse:
    """The repositories the viewer's GitHub installations give access to, each with a connect button; after a
    refused connection (`refused`: over the plan's repositories, not reachable), the same list with the reason."""
    membership = await organization_service.require_manager(viewer.session, viewer.user, organization_id)
    installations: list[dict[str, Any]] = []
    problem: str | None = None
    try:
        for installation in await github_service.list_installations(viewer.session, keyring, github, viewer.user):
            repos = await github_service.list_installation_repositories(
                viewer.session, keyring, github, viewer.user, installation.id
            )
            installations.append({"installation": installation, "repositories": repos})
    except AppError as error:  # no linked GitHub account, or GitHub unreachable: say so on the page
        problem = error.message
    settings: Settings = request.app.state.settings
    install_url = (
        f"{settings.github_web_url.rstrip('/')}/apps/{settings.github_app_slug}/installations/new"
        if settings.github_app_slug
        else None
    )
    context = {
        "installations": installations,
        "problem": problem,
        "install_url": install_url,
        "refused": form_problem(refused) if refused else None,
    }
    status = refused.status_code if refused else 200
    return render(request, "connect_github.html", context, viewer=viewer, organization=membership, status_code=status)


@router.post("/orgs/{organization_id}/repositories/github")
async def connect_from_github(
    request: Request, organization_id: uuid.UUID, viewer: PageViewer, github: GitHub, keyring: TokenKeyring
) -> Response:
    body = parse_form(GitHubRepositoryConnect, {**await form_data(request), "organization_id": str(organization_id)})
    try:
        repository = await github_service.connect_repository(
            viewer.session,
            keyring,
            github,
            viewer.user,
            organization_id=body.organization_id,
            installation_id=body.installation_id,
            full_name=body.full_name,
            settings=request.app.state.settings,
        )
    except AppError as refused:
        # Over the plan, or a repository the installation no longer reaches: said on the list, not an error page.
        if not is_form_mistake(refused, not_found=True):
            raise
        return await _render_github_repositories(request, organization_id, viewer, github, keyring, refused=refused)
    name = repository.github_full_name or repository.name
    return redirect(f"/repositories/{repository.id}", notice=f"Connected {name}.", request=request)


@router.get("/repositories/{repository_id}")
async def repository_page(request: Request, repository_id: uuid.UUID, viewer: PageViewer) -> HTMLResponse:
    repository = await service.get_repository(viewer.session, viewer.user, repository_id)
    membership = await organization_service.get_membership(viewer.session, viewer.user, repository.organization_id)
    history = await analysis_service.list_analyses(
        viewer.session, viewer.user, repository_id=repository.id, organization_id=None, limit=HISTORY, offset=0
    )
    # Listings leave the (large) result out; the latest successful analysis is read in full.
    succeeded = next((a for a in history if a.status == "succeeded"), None)
    latest_done = await analysis_service.get_analysis(viewer.session, viewer.user, succeeded.id) if succeeded else None
    context = {
        "repository": repository,
        "history": history,
        "current": history[0] if history else None,
        "analysis": latest_done,
        "result": latest_done.result if latest_done else None,
        "review": await analysis_review(viewer.session, viewer.user, latest_done.id) if latest_done else None,
        "drift": await github_service.list_drift(viewer.session, viewer.user, repository.id),
        "can_manage": membership.can_manage,
        "gitlab": await viewer.session.get(GitLabConnection, repository.id),
        "header": await repository_header(
            viewer.session,
            viewer.user,
            repository,
            can_manage=membership.can_manage,
            latest=history[0] if history else None,
        ),
    }
    return render(request, "repository.html", context, viewer=viewer, organization=membership)


@router.get("/repositories/{repository_id}/header")
async def header_fragment(request: Request, repository_id: uuid.UUID, viewer: PageViewer) -> HTMLResponse:
    """The header card alone: the repository page polls it while an analysis or a generation runs."""
    repository = await service.get_repository(viewer.session, viewer.user, repository_id)
    membership = await organization_service.get_membership(viewer.session, viewer.user, repository.organization_id)
    latest = await analysis_service.list_analyses(
        viewer.session, viewer.user, repository_id=repository.id, organization_id=None, limit=1, offset=0
    )
    header = await repository_header(
        viewer.session, viewer.user, repository, can_manage=membership.can_manage, latest=latest[0] if latest else None
    )
    announce = not header.busy and request.headers.get("HX-Request") == "true"
    context = {"header": header, "announce": announce}
    response = render(request, "repository_header.html", context, viewer=viewer, fragment=True)
    if announce:
        # Only a busy card polls: this one just saw the work end, so the rest of the page refreshes too.
        response.headers["HX-Trigger"] = "repository-updated"
    return response


@router.post("/repositories/{repository_id}/analyze")
async def analyze(request: Request, repository_id: uuid.UUID, viewer: PageViewer) -> Response:
    """Start an analysis (any member may, as through the API) and follow it live on its page."""
    repository = await service.get_repository(viewer.session, viewer.user, repository_id)
    _job, analysis = await submit_analysis(viewer.session, jobs_runtime(request), repository)
    return redirect(f"/analyses/{analysis.id}")


@router.post("/repositories/{repository_id}/disconnect")
async def disconnect(
    request: Request, repository_id: uuid.UUID, viewer: PageViewer, gitlab: GitLab, keyring: TokenKeyring
) -> Response:
    repository = await service.get_repository(viewer.session, viewer.user, repository_id)
    name = repository.github_full_name or repository.name
    # The project hook on GitLab goes first, as through the API; if GitLab cannot remove it, say so.
    problem = await gitlab_service.remove_webhook(viewer.session, keyring, gitlab, viewer.user, repository.id)
    await service.delete_repository(viewer.session, viewer.user, repository.id)
    notice = f"Disconnected {name}." + (f" {problem}" if problem else "")
    return redirect(f"/orgs/{repository.organization_id}/repositories", notice=notice, request=request)
