"""`/api/v1`: generated pipelines — the latest of a repository, one by id, a repository's history, and each as
a zip. Generating one is `POST /api/v1/repositories/{id}/pipelines` (a job)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.analysis.schemas import AnalysisRead
from autodevops.auth.dependencies import CurrentUser
from autodevops.db import DBSession
from autodevops.github.client import GitHubClient
from autodevops.github.dependencies import GitHub
from autodevops.models import Pipeline, User
from autodevops.pagination import Page, Pagination, page_response
from autodevops.pipeline import service
from autodevops.pipeline.schemas import (
    CIComparisonRead,
    ExistingCIFile,
    FileComparison,
    PipelineDetail,
    PipelineFile,
    PipelineRead,
    Validation,
)
from autodevops.repository import service as repository_service

router = APIRouter(tags=["pipelines"])

RepositoryID = Annotated[uuid.UUID, Path(description="The repository's id.")]
PipelineID = Annotated[uuid.UUID, Path(description="The pipeline's id.")]
Compare = Annotated[
    bool,
    Query(
        description="Also compare each file with the repository's default branch (read through the GitHub App; "
        "repositories connected by git URL answer with `comparison.problem`)."
    ),
]
ZIP: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/zip": {}}, "description": "The files, laid out as in the repository."}
}


async def _detail(
    session: AsyncSession, user: User, github: GitHubClient, pipeline: Pipeline, *, compare: bool
) -> PipelineDetail:
    analysis = await service.source_analysis(session, user, pipeline)
    existing = (analysis.result or {}).get("existing_ci", []) if analysis is not None else []
    comparison = None
    if compare:
        repository = await repository_service.get_repository(session, user, pipeline.repository_id)
        compared = await service.compare_with_repository(session, github, repository, pipeline)
        comparison = CIComparisonRead(
            files=[FileComparison(path=f.path, status=f.status, diff=f.diff) for f in compared.files],
            problem=compared.problem,
        )
    return PipelineDetail(
        id=pipeline.id,
        organization_id=pipeline.organization_id,
        repository_id=pipeline.repository_id,
        created_at=pipeline.created_at,
        files=[PipelineFile(path=str(f["path"]), content=str(f["content"])) for f in pipeline.files],
        validation=Validation.model_validate(pipeline.validation) if pipeline.validation else None,
        analysis=AnalysisRead.model_validate(analysis) if analysis is not None else None,
        existing_ci=[ExistingCIFile.model_validate(item) for item in existing],
        comparison=comparison,
    )


def _zip(pipeline: Pipeline) -> Response:
    return Response(
        service.archive(pipeline),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{service.archive_name(pipeline)}"'},
    )


@router.get("/repositories/{repository_id}/pipeline", response_model=PipelineDetail)
async def latest_pipeline(
    repository_id: RepositoryID, user: CurrentUser, session: DBSession, github: GitHub, compare: Compare = False
) -> PipelineDetail:
    """The repository's most recently generated pipeline (404 before the first)."""
    pipeline = await service.require_latest_pipeline(session, user, repository_id)
    return await _detail(session, user, github, pipeline, compare=compare)


@router.get("/repositories/{repository_id}/pipeline/download", response_class=Response, responses=ZIP)
async def download_latest_pipeline(repository_id: RepositoryID, user: CurrentUser, session: DBSession) -> Response:
    """The latest pipeline's files as a zip archive."""
    return _zip(await service.require_latest_pipeline(session, user, repository_id))


@router.get("/repositories/{repository_id}/pipelines", response_model=Page[PipelineRead])
async def list_pipelines(
    repository_id: RepositoryID, user: CurrentUser, session: DBSession, page: Pagination
) -> Response:
    """The repository's generated pipelines, newest first (file paths and validity; contents by id)."""
    rows = await service.list_pipelines(session, user, repository_id, limit=page.limit + 1, offset=page.offset)
    return page_response(rows, page, PipelineRead)


@router.get("/pipelines/{pipeline_id}", response_model=PipelineDetail)
async def get_pipeline(
    pipeline_id: PipelineID, user: CurrentUser, session: DBSession, github: GitHub, compare: Compare = False
) -> PipelineDetail:
    """One pipeline: files with contents, validation, the analysis it came from, the CI it would replace."""
    pipeline = await service.get_pipeline(session, user, pipeline_id)
    return await _detail(session, user, github, pipeline, compare=compare)


@router.get("/pipelines/{pipeline_id}/download", response_class=Response, responses=ZIP)
async def download_pipeline(pipeline_id: PipelineID, user: CurrentUser, session: DBSession) -> Response:
    """One pipeline's files as a zip archive."""
    return _zip(await service.get_pipeline(session, user, pipeline_id))
