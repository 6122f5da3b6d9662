"""The AI step of an analysis against real Postgres (RLS on) and Redis: applied, cached, rules only, cost."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from redis.asyncio import Redis

from ai.conftest import MakeSettings
from ai.fake_server import FakeAI
from autodevops.ai import queries
from autodevops.ai.digest import build_digest
from autodevops.ai.router import Router
from autodevops.ai.service import AIRescheduled, review_analysis
from autodevops.config import Settings
from autodevops.db import Database, tenant_session
from autodevops.engine.model import Analysis as EngineAnalysis
from autodevops.engine.model import Stack
from autodevops.engine.source import LocalDir
from autodevops.models import Analysis, Repository, utcnow
from autodevops.organization import plans, quotas

RULES = EngineAnalysis(
    source="repo",
    analyzed_on=dt.date(2026, 1, 1),
    stacks=[Stack(path=".", language="python", package_manager="pip", manifests=["pyproject.toml"])],
)
PYPROJECT = '[project]\nname = "demo"\n[project.optional-dependencies]\ntest = ["pytest>=8"]\n'


@pytest.fixture
def digest_data(tmp_path: Any) -> dict[str, Any]:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    return build_digest(RULES, LocalDir(tmp_path)).to_dict()


async def new_analysis(database: Database, organization_id: uuid.UUID) -> uuid.UUID:
    async with tenant_session(database, organization_id=organization_id) as session:
        repository = Repository(
            id=uuid.uuid4(),
            organization_id=organization_id,
            name="demo",
            source="git",
            clone_url=f"https://git.example/{uuid.uuid4().hex}.git",
        )
        session.add(repository)
        await session.flush()
        analysis = Analysis(
            id=uuid.uuid4(),
            organization_id=organization_id,
            repository_id=repository.id,
            status="running",
            result=RULES.model_dump(mode="json"),
        )
        session.add(analysis)
    return analysis.id


async def run_review(
    database: Database,
    settings: Settings,
    organization_id: uuid.UUID,
    digest_data: dict[str, Any] | None,
    router: Router | None,
    *,
    last_attempt: bool = True,
) -> tuple[Analysis, Any]:
    analysis_id = await new_analysis(database, organization_id)
    async with tenant_session(database, organization_id=organization_id) as session:
        analysis = await session.get(Analysis, analysis_id)
        assert analysis is not None
        record = await review_analysis(
            session, settings, analysis, digest_data, router=router, last_attempt=last_attempt
        )
    return analysis, record


async def test_review_is_applied_checked_recorded_and_cached(
    database: Database,
    make_tenant: Any,
    ai_settings: MakeSettings,
    ai_redis: Redis,
    fake_ai: FakeAI,
    digest_data: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    settings = ai_settings()
    fake_ai.review = {
        "summary": "A Python package.",
        "risks": [],
        "recommendations": ["Pin the test dependencies."],
        "corrections": [
            {"stack": ".", "field": "test_tool", "value": ["pytest"], "justification": "pyproject test extra"},
            {"stack": ".", "field": "lint_tools", "value": ["ruff"], "justification": "guess"},
        ],
    }
    router = Router(settings, redis=ai_redis)
    analysis, record = await run_review(database, settings, tenant.organization_id, digest_data, router)
    assert record.status == "applied"
    assert record.entry == "gemini:gemini-2.5-flash"
    stack = analysis.result["stacks"][0]
    assert stack["test_tool"] == "pytest"
    assert stack["provenance"]["test_tool"]["source"] == "ai"
    assert stack["lint_tools"] == []
    assert [r["field"] for r in record.rejected] == ["lint_tools"]
    assert record.cost_usd == Decimal("0.001110")  # 1200 in at $0.30/M + 300 out at $2.50/M

    # The same repository again: answered from the cache, no provider call, no cost.
    again, cached = await run_review(database, settings, tenant.organization_id, digest_data, router)
    assert len(fake_ai.calls) == 1
    assert cached.cached
    assert cached.cost_usd == 0
    assert again.result["stacks"][0]["test_tool"] == "pytest"

    async with tenant_session(database, organization_id=tenant.organization_id) as session:
        stored = await queries.review_of(session, analysis.id)
        total = await queries.organization_cost(session, tenant.organization_id, dt.date.today() - dt.timedelta(days=1))
    assert stored is not None
    assert stored.input_tokens == 1200
    assert total == Decimal("0.001110")


async def test_not_configured_keeps_the_rules(
    database: Database, make_tenant: Any, ai_settings: MakeSettings, digest_data: dict[str, Any]
) -> None:
    tenant = await make_tenant()
    analysis, record = await run_review(database, ai_settings(), tenant.organization_id, digest_data, None)
    assert record.status == "rules_only"
    assert record.reason == "not-configured"
    assert analysis.result == RULES.model_dump(mode="json")


async def test_invalid_output_after_repair_keeps_the_rules_and_records_the_cost(
    database: Database,
    make_tenant: Any,
    ai_settings: MakeSettings,
    ai_redis: Redis,
    fake_ai: FakeAI,
    digest_data: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    fake_ai.script("gemini", "malformed")
    settings = ai_settings()
    analysis, record = await run_review(
        database, settings, tenant.organization_id, digest_data, Router(settings, redis=ai_redis)
    )
    assert (record.status, record.reason) == ("rules_only", "invalid-output")
    assert analysis.result == RULES.model_dump(mode="json")
    assert len(record.calls) == 2
    assert record.cost_usd == Decimal("0.002220")


async def test_over_quota_reschedules_until_the_last_attempt(
    database: Database,
    make_tenant: Any,
    ai_settings: MakeSettings,
    ai_redis: Redis,
    fake_ai: FakeAI,
    digest_data: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    settings = ai_settings(ai_requests_per_minute={"gemini": 1, "openai": 1, "anthropic": 1}, ai_cache_ttl_s=0)
    router = Router(settings, redis=ai_redis)
    await run_review(database, settings, tenant.organization_id, digest_data, router)  # uses gemini's minute
    fake_ai.script("gemini", "500")
    fake_ai.script("openai", "500")
    fake_ai.script("anthropic", "500")
    settings.ai_retries = 0
    await run_review(database, settings, tenant.organization_id, digest_data, router)  # the others' minutes
    with pytest.raises(AIRescheduled):
        await run_review(database, settings, tenant.organization_id, digest_data, router, last_attempt=False)
    _, record = await run_review(database, settings, tenant.organization_id, digest_data, router)
    assert (record.status, record.reason) == ("rules_only", "over-quota")


async def spend_tokens(database: Database, organization_id: uuid.UUID, day: dt.date, tokens: int) -> None:
    async with tenant_session(database, organization_id=organization_id) as session:
        await queries.add_usage(
            session,
            organization_id=organization_id,
            day=day,
            cache_hit=False,
            calls=1,
            input_tokens=tokens,
            output_tokens=0,
            cost_usd=Decimal(0),
        )


async def test_monthly_ai_budget_counts_this_month_only_and_spent_it_keeps_the_cache(
    pg_settings: Settings,
    database: Database,
    make_tenant: Any,
    ai_settings: MakeSettings,
    ai_redis: Redis,
    fake_ai: FakeAI,
    digest_data: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    settings = ai_settings()
    allowed = settings.plan("free").ai_tokens_per_month
    router = Router(settings, redis=ai_redis)
    # Last month's use does not count: the whole budget of the month before is spent, this month's is not.
    last_month = quotas.start_of_month(utcnow()).date() - dt.timedelta(days=1)
    await spend_tokens(database, tenant.organization_id, last_month, allowed * 3)
    await spend_tokens(database, tenant.organization_id, utcnow().date(), allowed - 1)
    _, record = await run_review(database, settings, tenant.organization_id, digest_data, router)
    assert record.status == "applied"
    assert len(fake_ai.calls) == 1

    # That review took the month past its budget: the same digest is still answered from the cache (free)...
    async with tenant_session(database, organization_id=tenant.organization_id) as session:
        use = await quotas.ai_tokens_this_month(session, settings, tenant.organization_id)
    assert use.exhausted
    assert use.used == allowed - 1 + record.input_tokens + record.output_tokens
    _, cached = await run_review(database, settings, tenant.organization_id, digest_data, router)
    assert (cached.status, cached.cached) == ("applied", True)

    # ...and a new one gets no provider call: the rules stand with a finding; the analysis is not failed.
    other = build_digest(RULES.model_copy(update={"source": "other"}), None).to_dict()
    analysis, skipped = await run_review(database, settings, tenant.organization_id, other, router)
    assert len(fake_ai.calls) == 1
    assert (skipped.status, skipped.reason) == ("rules_only", "budget-exhausted")
    assert analysis.result["stacks"] == RULES.model_dump(mode="json")["stacks"]
    assert [f["code"] for f in analysis.result["findings"]] == ["ai-budget-exhausted"]

    # A larger plan has room again.
    await plans.set_plan(pg_settings, tenant.organization_id, "team")
    _, applied = await run_review(database, settings, tenant.organization_id, other, router)
    assert (applied.status, applied.cached) == ("applied", False)
