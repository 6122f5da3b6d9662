"""End to end: a signed push webhook queues `analysis.run`, whose job reads the repository over GitHub's API."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from autodevops.analysis import tasks as analysis_tasks
from autodevops.db import Database, tenant_session
from autodevops.jobs.registry import JobContext
from autodevops.models import Analysis

from .conftest import WEBHOOK_SECRET
from .fake_github import APP_ID, FakeGitHub
from .flows import csrf_headers, sign_in

pytestmark = pytest.mark.usefixtures("clean_db")


async def test_push_then_the_analysis_job_reads_github_without_a_clone(
    app_client: httpx.AsyncClient,
    fake_github: FakeGitHub,
    database: Database,
    pg_admin: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mona = fake_github.add_user("mona")
    iid = fake_github.add_installation("mona", users=[mona])
    gh_repo = fake_github.add_repo(iid, "mona", "api", {"go.mod": "module example.com/api\n\ngo 1.22\n"})
    await sign_in(app_client, fake_github, mona)
    org = (await app_client.get("/api/v1/organizations")).json()["items"][0]
    connected = await app_client.post(
        "/api/v1/github/repositories",
        json={"organization_id": org["id"], "installation_id": iid, "full_name": "mona/api"},
        headers=await csrf_headers(app_client),
    )
    assert connected.status_code == 201, connected.text

    after = fake_github.push("mona/api", "main", {"main.go": "package main\n\nfunc main() {}\n"})
    payload = {"ref": "refs/heads/main", "after": after, "repository": {"id": gh_repo.id, "default_branch": "main"}}
    delivered = fake_github.webhook(
        f"{app_client.base_url}/api/v1/github/webhooks", "push", payload, secret=WEBHOOK_SECRET, dry_run=True
    )
    response = await app_client.post("/api/v1/github/webhooks", content=delivered.body, headers=delivered.headers)
    assert response.status_code == 202
    assert response.json()["outcome"] == "queued 1 analysis"

    async with pg_admin.connect() as conn:
        job = (
            await conn.execute(
                text("SELECT id, name, payload, organization_id, queue FROM jobs WHERE name = 'analysis.run'")
            )
        ).one()
    assert job.name == "analysis.run"

    # The worker runs the job with the process environment: point it at the fake GitHub.
    monkeypatch.setenv("AUTODEVOPS_GITHUB_API_URL", fake_github.base_url)
    monkeypatch.setenv("AUTODEVOPS_GITHUB_APP_ID", APP_ID)
    monkeypatch.setenv("AUTODEVOPS_GITHUB_APP_PRIVATE_KEY", fake_github.app_private_key)

    async def report(*_: Any, **__: Any) -> None:
        return None

    async with tenant_session(database, organization_id=job.organization_id) as session:
        ctx = JobContext(
            job_id=job.id,
            name=job.name,
            queue=job.queue,
            organization_id=job.organization_id,
            payload=job.payload,
            attempt=1,
            correlation_id=None,
            session=session,
            report=report,
            deadline_s=60.0,
        )
        await analysis_tasks.run(ctx)
    async with tenant_session(database, organization_id=job.organization_id) as session:
        analysis = await session.get(Analysis, uuid.UUID(job.payload["analysis_id"]))
        assert analysis is not None
        assert analysis.status == "succeeded", analysis.error
        assert analysis.commit_sha == after
        assert analysis.result is not None
        assert [s["language"] for s in analysis.result["stacks"]] == ["go"]
    assert fake_github.count("GET", "/repos/mona/api/git/trees/") == 1
    assert json.dumps(analysis.result).count("mona/api") >= 1
