"""The AI status page of an organization: providers, breaker states, quota use and this month's cost."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from autodevops.ai.status import ai_status, app_quota_reader
from autodevops.config import Settings
from autodevops.organization import service as organization_service
from autodevops.ui import PageRoute, PageViewer, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/orgs/{organization_id}/ai")
async def ai_page(request: Request, organization_id: uuid.UUID, viewer: PageViewer) -> HTMLResponse:
    membership = await organization_service.get_membership(viewer.session, viewer.user, organization_id)
    settings: Settings = request.app.state.settings
    status = await ai_status(
        viewer.session, viewer.user, organization_id, settings, request.app.state.redis, app_quota_reader(request)
    )
    return render(request, "ai.html", {"status": status}, viewer=viewer, organization=membership)
