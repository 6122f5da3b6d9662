"""Route dependencies about the organization a request concerns."""

from __future__ import annotations

from fastapi import Request

from autodevops.auth.dependencies import CurrentUser
from autodevops.config import Settings
from autodevops.db import DBSession
from autodevops.organization import plans, queries


async def plan_of_request(request: Request, user: CurrentUser, session: DBSession) -> tuple[str, str, int] | None:
    """(organization id, plan, API requests per minute) of the organization the request is about (its path, or
    an `organization_id` query filter), for the plan's rate limit; None when it is about no single organization
    the caller can see."""
    del user  # authenticated first: the session is bound to the caller, so RLS scopes the lookup
    settings: Settings = request.app.state.settings
    if not settings.rate_limit_enabled:
        return None
    about = dict(request.path_params)
    if "organization_id" not in about and "organization_id" in request.query_params:
        about["organization_id"] = request.query_params["organization_id"]  # a listing filtered to one
    row = await queries.organization_of_path(session, about)
    if row is None:
        return None
    plan = plans.resolve(settings, row[1])
    return str(row[0]), plan.name, plan.limits.api_requests_per_minute
