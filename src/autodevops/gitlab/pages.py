"""Dashboard actions of the GitLab integration: connecting a project with an access token, opening the
pipeline's merge request, and rotating a connection's webhook secret. They call the same services as the API."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from autodevops.errors import AppError
from autodevops.github.dependencies import TokenKeyring
from autodevops.gitlab import service
from autodevops.gitlab.endpoints import GitLab
from autodevops.gitlab.schemas import GitLabProjectConnect
from autodevops.repository.pages import render_repositories
from autodevops.ui import PageRoute, PageViewer, form_data, is_form_mistake, parse_form, redirect

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.post("/orgs/{organization_id}/repositories/gitlab")
async def connect_project(
    request: Request, organization_id: uuid.UUID, viewer: PageViewer, gitlab: GitLab, keyring: TokenKeyring
) -> Response:
    fields = await form_data(request)
    try:
        body = parse_form(GitLabProjectConnect, {**fields, "organization_id": str(organization_id)})
        repository, _, _ = await service.connect_project(
            viewer.session,
            keyring,
            gitlab,
            viewer.user,
            organization_id=body.organization_id,
            project=body.project,
            token=body.token.get_secret_value(),
            settings=request.app.state.settings,
        )
    except AppError as refused:
        if not is_form_mistake(refused, not_found=True):
            raise
        # The project path is given back; the token never is (it is not echoed into a page).
        kept = {"project": fields.get("project", "")}
        return await render_repositories(request, organization_id, viewer, refused=refused, form="gitlab", values=kept)
    return redirect(f"/repositories/{repository.id}", notice=f"Connected {repository.name}.", request=request)


@router.post("/repositories/{repository_id}/merge-request")
async def open_merge_request(
    request: Request, repository_id: uuid.UUID, viewer: PageViewer, gitlab: GitLab, keyring: TokenKeyring
) -> Response:
    merge_request = await service.open_merge_request(viewer.session, keyring, gitlab, viewer.user, repository_id)
    return redirect(
        f"/repositories/{repository_id}/pipeline#merge-requests",
        notice=f"Merge request !{merge_request.iid} opened.",
        request=request,
    )


@router.post("/repositories/{repository_id}/gitlab/webhook-secret")
async def rotate_webhook_secret(
    repository_id: uuid.UUID, viewer: PageViewer, gitlab: GitLab, keyring: TokenKeyring
) -> Response:
    await service.rotate_webhook_secret(viewer.session, keyring, gitlab, viewer.user, repository_id)
    return redirect(f"/repositories/{repository_id}")
