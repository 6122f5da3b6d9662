"""Route dependencies about the organization a request concerns."""

from __future__ import annotations

import json

from fastapi import Request

from autodevops.auth.dependencies import CurrentUser
from autodevops.config import Settings
from autodevops.db import DBSession
from autodevops.organization import plans, queries


async def plan_of_request(request: Request, user: CurrentUser, session: DBSession) -> tuple[str, str, int] | None:
    """(organization id, plan, API requests per minute) of the organization the request is about (its path, an
    `organization_id` query filter, or the `organization_id` of a JSON body: connecting a repository), for the
    plan's rate limit; None when it is about no single organization the caller can see."""
    del user  # authenticated first: the session is bound to the caller, so RLS scopes the lookup
    settings: Settings = request.app.state.settings
    if not settings.rate_limit_enabled:
        return None
    about = dict(request.path_params)
    if "organization_id" not in about and "organization_id" in request.query_params:
        about["organization_id"] = request.query_params["organization_id"]  # a listing filtered to one
    if "organization_id" not in about and (named := await _organization_in_body(request)) is not None:
        about["organization_id"] = named
    row = await queries.organization_of_path(session, about)
    if row is None:
        return None
    plan = plans.resolve(settings, row[1])
    return str(row[0]), plan.name, plan.limits.api_requests_per_minute


async def _organization_in_body(request: Request) -> str | None:
    """The `organization_id` string of a JSON object body, if any. The body is the one the route reads (cached
    by the request; its size already bounded); one that is not JSON names nothing here and the route refuses it."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return None
    if request.headers.get("content-type", "").split(";", 1)[0].strip().lower() != "application/json":
        return None
    try:
        body = json.loads(await request.body())
    except ValueError:
        return None
    named = body.get("organization_id") if isinstance(body, dict) else None
    return named if isinstance(named, str) else None
