"""`analysis.run` end to end with the AI configured: real clone in the child process, real Postgres and
Redis, the fake Gemini server. The AI refines the analysis and never fails it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from ai.conftest import MakeSettings
from ai.fake_server import FakeAI
from autodevops.ai import queries
from autodevops.ai import service as ai_service
from autodevops.analysis import tasks as analysis_tasks
from autodevops.config import Settings
from autodevops.db import Database, tenant_session
from autodevops.jobs.events import STAGES
from autodevops.jobs.queues import ANALYSIS
from autodevops.jobs.registry import JobContext
from autodevops.models import Analysis, Repository, utcnow
from autodevops.organization.quotas import next_month
from git_server import GitHTTPServer, make_repository
from jobs.conftest import eventually

pytestmark = pytest.mark.slow


@pytest.fixture
def sample_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A small Python project on a local git server the analysis child is allowed to clone."""
    make_repository(
        tmp_path,
        "sample",
        {
            "pyproject.toml": '[project]\nname = "sample"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
            '[project.optional-dependencies]\ndev = ["pytest"]\n',
            "tests/test_x.py": "def test_x():\n    assert True\n",
        },
    )
    with GitHTTPServer(tmp_path) as server:
        for name, value in server.env.items():
            monkeypatch.setenv(name, value)
        yield f"{server.base}/smart/sample.git"


@pytest.fixture
def task_settings(
    ai_settings: MakeSettings, fake_ai: FakeAI, ai_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """Gemini only, for the job (patched settings) and its child process (environment)."""
    settings = ai_settings(ai_models=["gemini:gemini-2.5-flash"], openai_api_key=None, anthropic_api_key=None)
    monkeypatch.setattr(analysis_tasks, "get_settings", lambda: settings)
    monkeypatch.setattr(ai_service, "_routers", {})
    monkeypatch.setenv("AUTODEVOPS_GEMINI_API_KEY", "test-gemini-key")
    monkeypatch.setenv("AUTODEVOPS_AI_MODELS", "gemini:gemini-2.5-flash")
    return settings


async def add_repository(database: Database, organization_id: uuid.UUID, url: str) -> uuid.UUID:
    async with tenant_session(database, organization_id=organization_id) as session:
        repository = Repository(id=uuid.uuid4(), organization_id=organization_id, name="s", source="git", clone_url=url)
        session.add(repository)
    return repository.id


async def run_analysis(
    database: Database, organization_id: uuid.UUID, repository_id: uuid.UUID, stages: list[str] | None = None
) -> uuid.UUID:
    async with tenant_session(database, organization_id=organization_id) as session:
        analysis = Analysis(
            id=uuid.uuid4(), organization_id=organization_id, repository_id=repository_id, status="pending"
        )
        session.add(analysis)

    async def report(stage: str, **data: Any) -> None:
        if stages is not None:
            stages.append(stage)

    async with tenant_session(database, organization_id=organization_id) as session:
        context = JobContext(
            job_id=uuid.uuid4(),
            name=analysis_tasks.NAME,
            queue=ANALYSIS.name,
            organization_id=organization_id,
            payload={"analysis_id": str(analysis.id)},
            attempt=1,
            correlation_id=None,
            session=session,
            report=report,
            deadline_s=120,
        )
        await analysis_tasks.run(context)
    return analysis.id


async def test_analysis_is_reviewed_then_cached(
    database: Database,
    make_tenant: Any,
    task_settings: Settings,
    ai_redis: Redis,
    fake_ai: FakeAI,
    sample_repo: str,
) -> None:
    tenant = await make_tenant()
    repository_id = await add_repository(database, tenant.organization_id, sample_repo)
    stages: list[str] = []
    first = await run_analysis(database, tenant.organization_id, repository_id, stages)
    # Every stage the job reports is one the event stream accepts, and the AI step shows as its own stage.
    assert set(stages) <= set(STAGES)
    assert stages.index("analyzing") < stages.index("reviewing")
    [call] = fake_ai.calls
    sent = call.body["contents"][0]["parts"][0]["text"]
    assert '"path":"pyproject.toml"' in sent  # the child's digest, with the manifest excerpt
    assert "test_x.py" not in sent  # never the whole repository
    second = await run_analysis(database, tenant.organization_id, repository_id)
    assert len(fake_ai.calls) == 1  # unchanged repository: answered from the cache
    async with tenant_session(database, organization_id=tenant.organization_id) as session:
        reviews = [await queries.review_of(session, a) for a in (first, second)]
        analysis = await session.get(Analysis, second)
    assert [(r.status, r.cached) for r in reviews if r] == [("applied", False), ("applied", True)]
    assert analysis is not None
    assert analysis.status == "succeeded"


async def test_ai_down_leaves_the_rules_answer(
    database: Database,
    make_tenant: Any,
    task_settings: Settings,
    ai_redis: Redis,
    fake_ai: FakeAI,
    sample_repo: str,
) -> None:
    tenant = await make_tenant()
    fake_ai.script("gemini", "500")
    repository_id = await add_repository(database, tenant.organization_id, sample_repo)
    analysis_id = await run_analysis(database, tenant.organization_id, repository_id)
    async with tenant_session(database, organization_id=tenant.organization_id) as session:
        analysis = await session.get(Analysis, analysis_id)
        review = await queries.review_of(session, analysis_id)
    assert analysis is not None
    assert analysis.status == "succeeded"
    assert analysis.result is not None
    assert [s["test_tool"] for s in analysis.result["stacks"]] == ["pytest"]
    assert review is not None
    assert (review.status, review.reason) == ("rules_only", "unavailable")


async def test_spent_monthly_ai_budget_completes_with_rules_and_a_finding(
    database: Database,
    make_tenant: Any,
    task_settings: Settings,
    ai_redis: Redis,
    fake_ai: FakeAI,
    sample_repo: str,
) -> None:
    tenant = await make_tenant()
    allowed = task_settings.plan("free").ai_tokens_per_month
    async with tenant_session(database, organization_id=tenant.organization_id) as session:
        await queries.add_usage(
            session,
            organization_id=tenant.organization_id,
            day=utcnow().date(),
            cache_hit=False,
            calls=1,
            input_tokens=allowed,
            output_tokens=0,
            cost_usd=Decimal(0),
        )
    repository_id = await add_repository(database, tenant.organization_id, sample_repo)
    analysis_id = await run_analysis(database, tenant.organization_id, repository_id)
    async with tenant_session(database, organization_id=tenant.organization_id) as session:
        analysis = await session.get(Analysis, analysis_id)
        review = await queries.review_of(session, analysis_id)
    assert fake_ai.calls == []
    assert analysis is not None
    assert analysis.status == "succeeded"
    assert analysis.result is not None
    assert [s["test_tool"] for s in analysis.result["stacks"]] == ["pytest"]
    [finding] = [f for f in analysis.result["findings"] if f["code"] == "ai-budget-exhausted"]
    assert f"resets on {next_month(utcnow()):%Y-%m-%d} at 00:00 UTC" in finding["message"]
    assert review is not None
    assert (review.status, review.reason) == ("rules_only", "budget-exhausted")


async def test_the_ai_review_runs_without_holding_the_analysis_row_lock(
    database: Database,
    make_tenant: Any,
    ai_settings: MakeSettings,
    fake_ai: FakeAI,
    ai_prefix: str,
    ai_redis: Redis,
    sample_repo: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A provider that takes its time (well inside the client's timeout): while it thinks, another writer of the
    # analysis row (a cancel, a duplicate delivery, the stalled-job sweep) must not wait for it.
    settings = ai_settings(ai_models=["gemini:gemini-2.5-flash"], openai_api_key=None, anthropic_api_key=None)
    settings = settings.model_copy(update={"ai_timeout_s": 10.0})
    monkeypatch.setattr(analysis_tasks, "get_settings", lambda: settings)
    monkeypatch.setattr(ai_service, "_routers", {})
    fake_ai.slow_s = 1.5
    fake_ai.script("gemini", "timeout")  # answers, after slow_s
    tenant = await make_tenant()
    repository_id = await add_repository(database, tenant.organization_id, sample_repo)
    locked_while_reviewing: list[int] = []

    async def lock_the_row_during_the_provider_call() -> None:
        async def in_flight() -> bool:
            return fake_ai.count("gemini", ":generateContent") > 0

        await eventually(in_flight, within=60, what="the provider call")
        async with tenant_session(database, organization_id=tenant.organization_id) as session:
            query = select(Analysis).where(Analysis.repository_id == repository_id).with_for_update(nowait=True)
            locked_while_reviewing.append(len((await session.execute(query)).scalars().all()))

    analysis_id, _ = await asyncio.gather(
        run_analysis(database, tenant.organization_id, repository_id), lock_the_row_during_the_provider_call()
    )
    assert locked_while_reviewing == [1]  # NOWAIT got the lock: the job did not hold it during the call
    async with tenant_session(database, organization_id=tenant.organization_id) as session:
        analysis = await session.get(Analysis, analysis_id)
        review = await queries.review_of(session, analysis_id)
    assert analysis is not None
    assert analysis.status == "succeeded"
    assert review is not None
    assert review.status == "applied"
