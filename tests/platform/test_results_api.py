"""Every result through the JSON API: generated pipelines (latest, by id, history, archives) and the AI
layer's state and costs, each only for the organization's own members."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from autodevops.db import Database, tenant_session
from autodevops.models import AIReviewRecord, AIUsageDaily, Analysis, Pipeline, Repository, utcnow
from autodevops.organization import quotas
from platform_support import MakeTenant, Tenant

pytestmark = pytest.mark.usefixtures("clean_db")

WORKFLOW = "name: CI\non: [push]\njobs: {}\n"
VALIDATION = {
    "valid": False,
    "problems": [
        {"tool": "actionlint", "file": ".github/workflows/ci.yml", "line": 3, "rule": "syntax", "message": "x"}
    ],
    "unavailable": ["zizmor"],
    "findings": [],
}


async def repository_with_pipelines(
    database: Database, tenant: Tenant, count: int
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A git-URL repository with one analysis (listing its current CI) and `count` pipelines, oldest first."""
    async with tenant_session(database, user_id=tenant.user_id) as session:
        repository = Repository(
            organization_id=tenant.organization_id, name="api", source="git", clone_url="https://140.82.112.3/a/api.git"
        )
        session.add(repository)
        await session.flush()
        analysis = Analysis(
            organization_id=tenant.organization_id,
            repository_id=repository.id,
            status="succeeded",
            commit_sha="a" * 40,
            result={"stacks": [], "existing_ci": [{"provider": "github-actions", "path": ".github/workflows/ci.yml"}]},
        )
        session.add(analysis)
        await session.flush()
        ids: list[uuid.UUID] = []
        for number in range(count):
            pipeline = Pipeline(
                organization_id=tenant.organization_id,
                repository_id=repository.id,
                analysis_id=analysis.id,
                files=[
                    {"path": ".github/workflows/ci.yml", "content": WORKFLOW + f"# {number}\n"},
                    {"path": ".github/dependabot.yml", "content": "version: 2\n"},
                ],
                validation=VALIDATION,
                created_at=analysis.created_at + timedelta(seconds=number + 1),
            )
            session.add(pipeline)
            await session.flush()
            ids.append(pipeline.id)
    return repository.id, ids


async def test_latest_pipeline_with_files_validation_analysis_and_archive(
    api_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    tenant = await make_tenant()
    repository_id, ids = await repository_with_pipelines(database, tenant, 2)
    latest = await api_client.get(f"/api/v1/repositories/{repository_id}/pipeline", headers=tenant.headers)
    assert latest.status_code == 200, latest.text
    body = latest.json()
    assert body["id"] == str(ids[-1])
    assert body["files"][0] == {"path": ".github/workflows/ci.yml", "content": WORKFLOW + "# 1\n"}
    assert body["validation"]["valid"] is False
    assert body["validation"]["problems"][0]["tool"] == "actionlint"
    assert body["validation"]["unavailable"] == ["zizmor"]
    assert body["analysis"]["commit_sha"] == "a" * 40
    assert body["existing_ci"] == [{"provider": "github-actions", "path": ".github/workflows/ci.yml"}]
    assert body["comparison"] is None  # only on request: it reads the repository

    compared = await api_client.get(f"/api/v1/pipelines/{ids[0]}", params={"compare": "true"}, headers=tenant.headers)
    assert compared.status_code == 200
    assert compared.json()["files"][0]["content"].endswith("# 0\n")
    # A git-URL repository: its analysis says which generated files it already has.
    comparison = compared.json()["comparison"]
    assert comparison["files"] == [
        {"path": ".github/dependabot.yml", "status": "new", "diff": ""},
        {"path": ".github/workflows/ci.yml", "status": "exists", "diff": ""},
    ]
    assert "Line-by-line changes need a repository connected through GitHub or GitLab." in comparison["problem"]

    for url in (f"/api/v1/repositories/{repository_id}/pipeline/download", f"/api/v1/pipelines/{ids[-1]}/download"):
        archive = await api_client.get(url, headers=tenant.headers)
        assert archive.status_code == 200
        assert archive.headers["content-type"] == "application/zip"
        assert f'filename="pipeline-{ids[-1]}.zip"' in archive.headers["content-disposition"]
        with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
            assert sorted(zipped.namelist()) == [".github/dependabot.yml", ".github/workflows/ci.yml"]
            assert zipped.read(".github/workflows/ci.yml").decode() == WORKFLOW + "# 1\n"


async def test_a_repository_without_a_pipeline_says_so(
    api_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    tenant = await make_tenant()
    repository_id, _ = await repository_with_pipelines(database, tenant, 0)
    for suffix in ("pipeline", "pipeline/download"):
        response = await api_client.get(f"/api/v1/repositories/{repository_id}/{suffix}", headers=tenant.headers)
        assert response.status_code == 404
        assert response.json() == {
            "error": "not_found",
            "detail": "this repository has no generated pipeline yet; generate one first",
        }
    listing = await api_client.get(f"/api/v1/repositories/{repository_id}/pipelines", headers=tenant.headers)
    assert listing.json()["items"] == []


async def test_pipeline_history_is_paginated_newest_first_without_contents(
    api_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    tenant = await make_tenant()
    repository_id, ids = await repository_with_pipelines(database, tenant, 3)
    url = f"/api/v1/repositories/{repository_id}/pipelines"
    first = (await api_client.get(url, params={"limit": 2}, headers=tenant.headers)).json()
    assert [item["id"] for item in first["items"]] == [str(ids[2]), str(ids[1])]
    assert first["next_offset"] == 2
    assert first["items"][0]["paths"] == [".github/workflows/ci.yml", ".github/dependabot.yml"]
    assert first["items"][0]["valid"] is False
    assert "files" not in first["items"][0]
    second = (await api_client.get(url, params={"limit": 2, "offset": 2}, headers=tenant.headers)).json()
    assert [item["id"] for item in second["items"]] == [str(ids[0])]
    assert second["next_offset"] is None
    too_many = await api_client.get(url, params={"limit": 101}, headers=tenant.headers)
    assert too_many.status_code == 422


async def test_ai_state_costs_and_review_in_json(
    api_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    tenant = await make_tenant()
    org = tenant.organization_id
    state = await api_client.get(f"/api/v1/organizations/{org}/ai", headers=tenant.headers)
    assert state.status_code == 200, state.text
    body = state.json()
    assert body["enabled"] is False  # no provider key in the tests' settings
    assert [e["provider"] for e in body["entries"]] == ["gemini", "openai", "anthropic"]
    assert all(e["usable"] is False and e["breaker"] is None for e in body["entries"])
    assert Decimal(body["cost_this_month_usd"]) == 0
    assert body["usage"] == []

    async with tenant_session(database, user_id=tenant.user_id) as session:
        analysis = Analysis(organization_id=org, repository_id=(await _repo(session, org)), status="succeeded")
        session.add(analysis)
        await session.flush()
    review_url = f"/api/v1/analyses/{analysis.id}/ai-review"
    missing = await api_client.get(review_url, headers=tenant.headers)
    assert missing.status_code == 404
    assert "no AI review" in missing.json()["detail"]

    today = date.today()
    async with tenant_session(database, user_id=tenant.user_id) as session:
        session.add(
            AIReviewRecord(
                organization_id=org,
                analysis_id=analysis.id,
                status="applied",
                entry="gemini:gemini-2.5-flash",
                prompt_version="review-v1",
                summary="A Python service tested with pytest.",
                recommendations=["Cache pip downloads."],
                input_tokens=900,
                output_tokens=120,
                cost_usd=Decimal("0.000321"),
            )
        )
        session.add(
            AIUsageDaily(
                organization_id=org,
                day=today,
                reviews=1,
                cache_hits=0,
                calls=1,
                input_tokens=900,
                output_tokens=120,
                cost_usd=Decimal("0.000321"),
            )
        )
    review = (await api_client.get(review_url, headers=tenant.headers)).json()
    assert review["status"] == "applied"
    assert review["entry"] == "gemini:gemini-2.5-flash"
    assert review["recommendations"] == ["Cache pip downloads."]
    assert Decimal(review["cost_usd"]) == Decimal("0.000321")
    body = (await api_client.get(f"/api/v1/organizations/{org}/ai", headers=tenant.headers)).json()
    assert Decimal(body["cost_this_month_usd"]) == Decimal("0.000321")
    assert [(d["day"], d["input_tokens"]) for d in body["usage"]] == [(today.isoformat(), 900)]
    # The plan's monthly AI tokens: input and output of every call count, until the 1st of next month.
    assert (body["tokens_this_month"], body["tokens_per_month"]) == (1020, 200_000)
    assert body["budget_resets_at"].startswith(f"{quotas.next_month(utcnow()):%Y-%m-%d}T00:00:00")


async def _repo(session: Any, org: uuid.UUID) -> uuid.UUID:
    repository = Repository(organization_id=org, name="r", source="git", clone_url=f"https://140.82.112.3/a/{org}.git")
    session.add(repository)
    await session.flush()
    return repository.id
