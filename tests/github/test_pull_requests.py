"""Connecting a GitHub repository and opening the pipeline pull request, through the API."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from autodevops.config import Settings
from autodevops.db import tenant_session
from autodevops.github import service
from autodevops.github.client import PR_BRANCH, GitHubClient
from autodevops.models import Analysis, Pipeline
from platform_support import forget_redis_keys

from .conftest import app_overrides, settings_for
from .fake_github import FakeGitHub
from .flows import csrf_headers, sign_in

pytestmark = pytest.mark.usefixtures("clean_db")

ANALYSIS = {
    "stacks": [
        {
            "path": ".",
            "language": "node",
            "package_manager": "pnpm",
            "versions": ["20", "22"],
            "test_tool": "vitest",
            "provenance": {"package_manager": {"evidence": [{"file": "pnpm-lock.yaml"}], "confidence": 1.0}},
        }
    ],
    "findings": [{"code": "no-lockfile", "severity": "warning", "message": "`weird` message"}],
}


async def connect(client: httpx.AsyncClient, fake: FakeGitHub) -> tuple[dict[str, Any], int]:
    mona = fake.add_user("mona")
    iid = fake.add_installation("mona", users=[mona])
    fake.add_repo(iid, "mona", "app", {"package.json": "{}", "pnpm-lock.yaml": "lockfileVersion: '9.0'\n"})
    await sign_in(client, fake, mona)
    installs = (await client.get("/api/v1/github/installations")).json()
    assert installs == [
        {"id": iid, "account_login": "mona", "account_type": "User", "repository_selection": "selected"}
    ]
    repos = (await client.get(f"/api/v1/github/installations/{iid}/repositories")).json()
    assert [r["full_name"] for r in repos] == ["mona/app"]
    org = (await client.get("/api/v1/organizations")).json()["items"][0]
    body = {"organization_id": org["id"], "installation_id": iid, "full_name": "mona/app"}
    created = await client.post("/api/v1/github/repositories", json=body, headers=await csrf_headers(client))
    assert created.status_code == 201, created.text
    repository: dict[str, Any] = created.json()
    assert repository["source"] == "github"
    assert repository["github_full_name"] == "mona/app"
    assert repository["default_branch"] == "main"
    again = await client.post("/api/v1/github/repositories", json=body, headers=await csrf_headers(client))
    assert again.status_code == 409
    return repository, iid


async def add_pipeline(database: Any, client: httpx.AsyncClient, repository: dict[str, Any], ci: str) -> None:
    user_id = uuid.UUID((await client.get("/api/v1/auth/session")).json()["user_id"])
    org_id = uuid.UUID(repository["organization_id"])
    repo_id = uuid.UUID(repository["id"])
    async with tenant_session(database, user_id=user_id) as session:
        analysis = Analysis(organization_id=org_id, repository_id=repo_id, status="succeeded", result=ANALYSIS)
        session.add(analysis)
        await session.flush()
        session.add(
            Pipeline(
                organization_id=org_id,
                repository_id=repo_id,
                analysis_id=analysis.id,
                files=[
                    {"path": ".github/workflows/ci.yml", "content": ci},
                    {"path": ".github/dependabot.yml", "content": "version: 2\n"},
                ],
                validation={"valid": True, "findings": []},
            )
        )


async def test_connect_then_open_and_update_the_pull_request(
    app_client: httpx.AsyncClient, fake_github: FakeGitHub, database: Any
) -> None:
    repository, _ = await connect(app_client, fake_github)
    url = f"/api/v1/repositories/{repository['id']}/pull-request"
    early = await app_client.post(url, headers=await csrf_headers(app_client))
    assert early.status_code == 409
    assert "generate a pipeline" in early.json()["detail"]

    await add_pipeline(database, app_client, repository, "name: CI\non: [push]\n")
    first = await app_client.post(url, headers=await csrf_headers(app_client))
    assert first.status_code == 200, first.text
    pr = first.json()
    assert pr["number"] == 1
    assert pr["state"] == "open"
    assert pr["head_branch"] == PR_BRANCH
    branch = fake_github.files_at("mona/app", f"heads/{PR_BRANCH}")
    assert branch[".github/workflows/ci.yml"] == b"name: CI\non: [push]\n"
    assert branch[".github/dependabot.yml"] == b"version: 2\n"
    body = fake_github.repos["mona/app"].pulls[0]["body"]
    assert "`pnpm`" in body
    assert "`pnpm-lock.yaml`" in body  # the evidence behind the choice
    assert "**warning** `no-lockfile`: `weird` message" in body
    assert "All generated files passed validation." in body

    await add_pipeline(database, app_client, repository, "name: CI\non: [push, pull_request]\n")
    second = (await app_client.post(url, headers=await csrf_headers(app_client))).json()
    assert second["number"] == 1
    assert second["id"] == pr["id"]
    assert second["head_sha"] != pr["head_sha"]
    assert fake_github.files_at("mona/app", f"heads/{PR_BRANCH}")[".github/workflows/ci.yml"] == (
        b"name: CI\non: [push, pull_request]\n"
    )
    assert len(fake_github.repos["mona/app"].pulls) == 1
    listed = (await app_client.get(f"/api/v1/repositories/{repository['id']}/pull-requests")).json()
    assert [p["number"] for p in listed] == [1]


async def test_github_rate_limit_is_a_clear_503(
    app_client: httpx.AsyncClient, fake_github: FakeGitHub, database: Any
) -> None:
    repository, _ = await connect(app_client, fake_github)
    await add_pipeline(database, app_client, repository, "name: CI\n")
    fake_github.rate_limit("/repos/mona/app/git/ref/", status=429, reset_in=3600)
    response = await app_client.post(
        f"/api/v1/repositories/{repository['id']}/pull-request", headers=await csrf_headers(app_client)
    )
    assert response.status_code == 503
    assert response.json()["error"] == "github_rate_limited"
    assert "resets in" in response.json()["detail"]


async def test_installations_need_a_linked_github_account_and_access(
    app_client: httpx.AsyncClient, fake_github: FakeGitHub, make_tenant: Any
) -> None:
    tenant = await make_tenant()
    bearer = httpx.AsyncClient(transport=app_client._transport, base_url="http://testserver", headers=tenant.headers)
    response = await bearer.get("/api/v1/github/installations")
    assert response.status_code == 409
    assert response.json()["error"] == "github_account_required"

    _, iid = await connect(app_client, fake_github)
    other = fake_github.add_user("other")
    foreign = fake_github.add_installation("other", users=[other])
    org = (await app_client.get("/api/v1/organizations")).json()["items"][0]
    denied = await app_client.post(
        "/api/v1/github/repositories",
        json={"organization_id": org["id"], "installation_id": foreign, "full_name": "other/x"},
        headers=await csrf_headers(app_client),
    )
    assert denied.status_code == 404
    assert iid != foreign


async def test_drift_is_found_when_the_repository_ci_differs_from_the_recommendation(
    app_client: httpx.AsyncClient, fake_github: FakeGitHub, database: Any
) -> None:
    repository, _ = await connect(app_client, fake_github)
    recommended = "name: CI\non: [push]\n"
    await add_pipeline(database, app_client, repository, recommended)
    repo_id, org_id = uuid.UUID(repository["id"]), uuid.UUID(repository["organization_id"])
    client = GitHubClient(settings_for(fake_github))

    async def check(commit: str) -> Any:
        async with tenant_session(database, organization_id=org_id) as session:  # as the job runs
            finding = await service.check_drift(session, client, repo_id, commit)
            return finding.differences if finding else None

    initial = fake_github.repos["mona/app"].refs["heads/main"]
    assert await check(initial) == [
        {"path": ".github/dependabot.yml", "status": "missing"},
        {"path": ".github/workflows/ci.yml", "status": "missing"},
    ]
    assert await check(initial) is not None  # the same push again: the same finding, not a second one
    in_sync = fake_github.push(
        "mona/app", "main", {".github/workflows/ci.yml": recommended + "\n", ".github/dependabot.yml": "version: 2\n"}
    )
    assert await check(in_sync) is None  # whitespace aside, the repository runs the recommended pipeline
    edited = fake_github.push("mona/app", "main", {".github/workflows/ci.yml": "name: CI\non: [workflow_dispatch]\n"})
    assert await check(edited) == [{"path": ".github/workflows/ci.yml", "status": "differs"}]

    listed = (await app_client.get(f"/api/v1/repositories/{repository['id']}/drift")).json()
    assert [(f["commit_sha"], len(f["differences"])) for f in listed] == [(edited, 1), (initial, 2)]


async def test_a_repository_over_the_plan_is_refused_in_the_api_and_the_chooser(
    make_api_client: Any, pg_settings: Settings, fake_github: FakeGitHub
) -> None:
    free = pg_settings.plans["free"].model_copy(update={"repositories": 1})
    prefix = "test-github-plans"
    client = await make_api_client(
        **app_overrides(fake_github, jobs_key_prefix=prefix, plans={**pg_settings.plans, "free": free})
    )
    try:
        repository, iid = await connect(client, fake_github)
        fake_github.add_repo(iid, "mona", "web", {"package.json": "{}"})
        body = {"organization_id": repository["organization_id"], "installation_id": iid, "full_name": "mona/web"}
        refused = await client.post("/api/v1/github/repositories", json=body, headers=await csrf_headers(client))
        assert refused.status_code == 402
        assert refused.json()["error"] == "quota_exceeded"
        assert refused.json()["detail"]["limit"] == "repositories"

        form = {k: str(v) for k, v in body.items() if k != "organization_id"}
        page = await client.post(
            f"/orgs/{repository['organization_id']}/repositories/github",
            data={**form, "csrf_token": (await csrf_headers(client))["X-CSRF-Token"]},
            headers={"Accept": "text/html"},
        )
        assert page.status_code == 402
        assert '<p id="connect-error" class="error" role="alert">The free plan allows 1 repository' in page.text
        assert 'aria-label="Connect mona/web"' in page.text  # the chooser itself, still listing what can be picked

        # A repository the installation does not reach (gone since the list was shown): said on the chooser too.
        gone = await client.post(
            f"/orgs/{repository['organization_id']}/repositories/github",
            data={**form, "full_name": "mona/ghost", "csrf_token": (await csrf_headers(client))["X-CSRF-Token"]},
            headers={"Accept": "text/html"},
        )
        assert gone.status_code == 404
        assert '<p id="connect-error" class="error" role="alert">repository not found in this installation' in gone.text
        assert 'aria-label="Connect mona/web"' in gone.text
    finally:
        await forget_redis_keys(prefix)
