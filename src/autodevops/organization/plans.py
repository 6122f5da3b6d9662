"""Plans: which one an organization is on, and changing it (an operator's act, audited).

Plan names and limits live in settings (`AUTODEVOPS_PLANS`); `organizations.plan` names one (NULL: the default
plan). The app role cannot write that column, so changing a plan goes through the owner role
(`AUTODEVOPS_DATABASE_ADMIN_URL`), as `autodevops orgs set-plan` does.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from autodevops.config import PlanLimits, Settings
from autodevops.models import Organization


class PlanError(Exception):
    """A plan change that cannot be made (message says why)."""


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    limits: PlanLimits


def resolve(settings: Settings, stored: str | None) -> Plan:
    """The plan a stored name means: itself, or the default plan when unset or no longer configured."""
    name = stored if stored in settings.plans else settings.default_plan
    return Plan(name, settings.plans[name])


async def plan_of(session: AsyncSession, settings: Settings, organization_id: uuid.UUID) -> Plan:
    """The organization's plan (the session must see the organization; unseen: the default plan)."""
    stored = await session.scalar(select(Organization.plan).where(Organization.id == organization_id))
    return resolve(settings, stored)


async def set_plan(settings: Settings, organization_id: uuid.UUID, plan: str) -> tuple[str, str]:
    """Put the organization on `plan`, with an audit event, as the owner role. Returns (previous, new)."""
    if plan not in settings.plans:
        raise PlanError(f"unknown plan {plan!r}; plans: {', '.join(sorted(settings.plans))}")
    engine = create_async_engine(settings.database_admin_url.get_secret_value())
    try:
        async with engine.begin() as connection:
            row = (
                await connection.execute(
                    text("SELECT plan FROM organizations WHERE id = :id FOR UPDATE"), {"id": organization_id}
                )
            ).one_or_none()
            if row is None:
                raise PlanError(f"no organization with id {organization_id}")
            previous = resolve(settings, row.plan).name
            await connection.execute(
                text("UPDATE organizations SET plan = :plan, updated_at = now() WHERE id = :id"),
                {"plan": plan, "id": organization_id},
            )
            await connection.execute(
                text(
                    "INSERT INTO audit_events (id, organization_id, user_id, action, target_type, target_id, data, "
                    "created_at) VALUES (:id, :org, NULL, 'organization.plan_changed', 'organization', :org, "
                    "CAST(:data AS jsonb), now())"
                ),
                {"id": uuid.uuid4(), "org": organization_id, "data": json.dumps({"from": previous, "to": plan})},
            )
    finally:
        await engine.dispose()
    return previous, plan
