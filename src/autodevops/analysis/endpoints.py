"""`/api/v1/analyses`: analyses of the caller's repositories."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query

from autodevops.analysis import service
from autodevops.analysis.schemas import AnalysisDetail, AnalysisRead
from autodevops.auth.dependencies import CurrentUser
from autodevops.db import DBSession
from autodevops.pagination import Page, Pagination, to_page

router = APIRouter(prefix="/analyses", tags=["analyses"])

AnalysisID = Annotated[uuid.UUID, Path(description="The analysis's id.")]


@router.get("", response_model=Page[AnalysisRead])
async def list_analyses(
    user: CurrentUser,
    session: DBSession,
    page: Pagination,
    repository_id: Annotated[uuid.UUID | None, Query(description="Only this repository's.")] = None,
    organization_id: Annotated[uuid.UUID | None, Query(description="Only this organization's.")] = None,
) -> Page[AnalysisRead]:
    rows = await service.list_analyses(
        session,
        user,
        repository_id=repository_id,
        organization_id=organization_id,
        limit=page.limit + 1,
        offset=page.offset,
    )
    return to_page(rows, page, AnalysisRead.model_validate)


@router.get("/{analysis_id}", response_model=AnalysisDetail)
async def get_analysis(analysis_id: AnalysisID, user: CurrentUser, session: DBSession) -> AnalysisDetail:
    return AnalysisDetail.model_validate(await service.get_analysis(session, user, analysis_id))
