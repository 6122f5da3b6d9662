"""`/api/v1/repositories`: connected repositories."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from autodevops.auth.dependencies import CurrentUser
from autodevops.config import Settings
from autodevops.db import DBSession
from autodevops.github.dependencies import TokenKeyring
from autodevops.gitlab import service as gitlab_service
from autodevops.gitlab.endpoints import GitLab
from autodevops.pagination import Page, Pagination, page_response
from autodevops.repository import service
from autodevops.repository.git_url import GitURLPolicy
from autodevops.repository.schemas import RepositoryCreate, RepositoryRead, RepositoryUpdate

router = APIRouter(prefix="/repositories", tags=["repositories"])

RepositoryID = Annotated[uuid.UUID, Path(description="The repository's id.")]


@router.post("", response_model=RepositoryRead, status_code=status.HTTP_201_CREATED)
async def connect_repository(
    body: RepositoryCreate, request: Request, user: CurrentUser, session: DBSession
) -> RepositoryRead:
    settings: Settings = request.app.state.settings
    repository = await service.connect_repository(
        session,
        user,
        body.organization_id,
        body.url,
        default_branch=body.default_branch,
        url_policy=GitURLPolicy.from_settings(settings),
        settings=settings,
    )
    return RepositoryRead.model_validate(repository)


@router.get("", response_model=Page[RepositoryRead])
async def list_repositories(
    user: CurrentUser,
    session: DBSession,
    page: Pagination,
    organization_id: Annotated[uuid.UUID | None, Query(description="Only this organization's.")] = None,
) -> Response:
    rows = await service.list_repository_rows(
        session, user, organization_id=organization_id, limit=page.limit + 1, offset=page.offset
    )
    return page_response(rows, page, RepositoryRead)


@router.get("/{repository_id}", response_model=RepositoryRead)
async def get_repository(repository_id: RepositoryID, user: CurrentUser, session: DBSession) -> RepositoryRead:
    return RepositoryRead.model_validate(await service.get_repository(session, user, repository_id))


@router.patch("/{repository_id}", response_model=RepositoryRead)
async def update_repository(
    repository_id: RepositoryID, body: RepositoryUpdate, user: CurrentUser, session: DBSession
) -> RepositoryRead:
    repository = await service.update_repository(session, user, repository_id, default_branch=body.default_branch)
    return RepositoryRead.model_validate(repository)


@router.delete("/{repository_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_repository(
    repository_id: RepositoryID,
    user: CurrentUser,
    session: DBSession,
    gitlab: GitLab,
    keyring: TokenKeyring,
    response: Response,
) -> None:
    problem = await gitlab_service.remove_webhook(session, keyring, gitlab, user, repository_id)
    await service.delete_repository(session, user, repository_id)
    if problem is not None:
        response.headers[gitlab_service.WARNING_HEADER] = gitlab_service.warning_header(problem)
