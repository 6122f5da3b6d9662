"""Plans: an operator puts an organization on a plan (audited); no organization can change its own."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from autodevops.config import Settings
from autodevops.db import Database, tenant_session
from autodevops.organization import plans
from platform_support import MakeTenant, run_cli


async def test_an_organization_cannot_change_its_own_plan(database: Database, make_tenant: MakeTenant) -> None:
    owner = await make_tenant()
    with pytest.raises(DBAPIError, match="permission denied for table organizations"):
        async with tenant_session(database, user_id=owner.user_id) as session:
            await session.execute(
                text("UPDATE organizations SET plan = 'enterprise' WHERE id = :o"), {"o": owner.organization_id}
            )


async def test_set_plan_changes_the_plan_and_records_it(
    pg_settings: Settings, database: Database, pg_admin: AsyncEngine, make_tenant: MakeTenant
) -> None:
    owner = await make_tenant()
    async with tenant_session(database, user_id=owner.user_id) as session:
        assert (await plans.plan_of(session, pg_settings, owner.organization_id)).name == "free"  # the default
    assert await plans.set_plan(pg_settings, owner.organization_id, "enterprise") == ("free", "enterprise")
    async with tenant_session(database, user_id=owner.user_id) as session:
        plan = await plans.plan_of(session, pg_settings, owner.organization_id)
        assert plan.name == "enterprise"
        assert plan.limits.queue_cost == 1
    async with pg_admin.connect() as connection:
        event: Any = (
            await connection.execute(
                text("SELECT action, data FROM audit_events WHERE organization_id = :o AND action LIKE '%plan%'"),
                {"o": owner.organization_id},
            )
        ).one()
    assert tuple(event) == ("organization.plan_changed", {"from": "free", "to": "enterprise"})
    with pytest.raises(plans.PlanError, match="unknown plan 'platinum'; plans: enterprise, free, team"):
        await plans.set_plan(pg_settings, owner.organization_id, "platinum")


@pytest.mark.slow
async def test_the_operator_command(pg_settings: Settings, make_tenant: MakeTenant) -> None:
    owner = await make_tenant()
    changed = run_cli(pg_settings, "orgs", "set-plan", str(owner.organization_id), "team")
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.strip() == f"organization {owner.organization_id}: plan free -> team"
    unknown = run_cli(pg_settings, "orgs", "set-plan", str(owner.organization_id), "gold")
    assert unknown.returncode == 1
    assert "unknown plan 'gold'" in unknown.stderr
