"""The JSON API: every domain router under `/api/v1`. The app factory includes `api_router`."""

from __future__ import annotations

from fastapi import APIRouter

from autodevops.ai.endpoints import router as ai_router
from autodevops.analysis.endpoints import router as analysis_router
from autodevops.auth.endpoints import router as auth_router
from autodevops.auth.login import api_router as session_router
from autodevops.github.endpoints import router as github_router
from autodevops.gitlab.endpoints import router as gitlab_router
from autodevops.gitlab.signin import api_router as gitlab_account_router
from autodevops.invitation.endpoints import router as invitation_router
from autodevops.jobs.endpoints import router as jobs_router
from autodevops.organization.endpoints import router as organization_router
from autodevops.pipeline.endpoints import router as pipeline_router
from autodevops.repository.endpoints import router as repository_router
from autodevops.sso.endpoints import router as sso_router

API_PREFIX = "/api/v1"
# Every router of the JSON API, in the order they are mounted.
ROUTERS = (
    auth_router,
    session_router,
    organization_router,
    invitation_router,
    sso_router,
    repository_router,
    analysis_router,
    pipeline_router,
    ai_router,
    github_router,
    gitlab_router,
    gitlab_account_router,
    jobs_router,
)
api_router = APIRouter(prefix=API_PREFIX)
for router in ROUTERS:
    api_router.include_router(router)
