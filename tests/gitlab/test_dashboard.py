"""The dashboard's GitLab flow over the real app: sign in with GitLab, connect a project with an access token,
see the host on every repository, open the merge request from the pipeline page, manage the webhook."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from autodevops.db import Database, tenant_session
from autodevops.models import Analysis, Pipeline

from .fake_gitlab import FakeGitLab
from .test_sign_in import sign_in

pytestmark = pytest.mark.usefixtures("clean_db")
HTML = {"Accept": "text/html"}


async def test_the_whole_gitlab_flow_in_the_dashboard(
    app: httpx.AsyncClient, fake_gitlab: FakeGitLab, database: Database
) -> None:
    offered = await app.get("/sign-in", headers=HTML)
    assert 'href="/auth/gitlab/login"' in offered.text

    alice = fake_gitlab.add_user("alice")
    project = fake_gitlab.add_project("acme/api", members={alice: 40}, files={"go.mod": "module x\n\ngo 1.22\n"})
    token = fake_gitlab.project_token(project)
    await sign_in(app, fake_gitlab, alice)
    session = (await app.get("/api/v1/auth/session")).json()
    csrf = session["csrf_token"]
    org = (await app.get("/api/v1/organizations")).json()["items"][0]["id"]

    listing = await app.get(f"/orgs/{org}/repositories", headers=HTML)
    assert "Connect a GitLab project" in listing.text
    connected = await app.post(
        f"/orgs/{org}/repositories/gitlab",
        data={"project": "acme/api", "token": token, "csrf_token": csrf},
        headers=HTML,
    )
    assert connected.status_code == 303, connected.text
    repository_path = connected.headers["location"]
    repository_id = uuid.UUID(repository_path.rsplit("/", 1)[1])

    listing = await app.get(f"/orgs/{org}/repositories", headers=HTML)
    assert "<td>GitLab</td>" in listing.text
    page = await app.get(repository_path, headers=HTML)
    assert "GitLab ·" in page.text
    assert "registered (push and merge request events)" in page.text
    assert token not in page.text

    rotated = await app.post(f"{repository_path}/gitlab/webhook-secret", data={"csrf_token": csrf}, headers=HTML)
    assert rotated.status_code == 303
    assert len(project.hooks) == 1

    async with tenant_session(database, user_id=uuid.UUID(session["user_id"])) as db:
        analysis = Analysis(
            organization_id=uuid.UUID(org), repository_id=repository_id, status="succeeded", result={"stacks": []}
        )
        db.add(analysis)
        await db.flush()
        files = [
            {"path": ".gitlab-ci.yml", "content": "test:\n  script: [go test ./...]\n"},
            {"path": ".github/workflows/ci.yml", "content": "on: push\n"},
        ]
        db.add(
            Pipeline(
                organization_id=analysis.organization_id,
                repository_id=repository_id,
                analysis_id=analysis.id,
                files=files,
            )
        )

    pipeline = await app.get(f"{repository_path}/pipeline", headers=HTML)
    assert "Open merge request" in pipeline.text
    # Compared with the project's default branch, read through GitLab's API: only the file GitLab runs.
    assert "<code>.gitlab-ci.yml</code> — new file" in pipeline.text
    assert "<code>.github/workflows/ci.yml</code> —" not in pipeline.text
    assert "Open pull request" not in pipeline.text
    opened = await app.post(f"{repository_path}/merge-request", data={"csrf_token": csrf}, headers=HTML)
    assert opened.status_code == 303, opened.text
    assert opened.headers["location"].endswith("/pipeline#merge-requests")
    pipeline = await app.get(f"{repository_path}/pipeline", headers=HTML)
    assert ">!1</a>" in pipeline.text
    assert fake_gitlab.files_at(project, "autodevops/ci")[".gitlab-ci.yml"] == b"test:\n  script: [go test ./...]\n"

    refused = await app.post(f"{repository_path}/merge-request", headers=HTML)  # no CSRF token
    assert refused.status_code == 403


async def test_connect_form_errors_are_shown_as_pages(app: httpx.AsyncClient, fake_gitlab: FakeGitLab) -> None:
    alice = fake_gitlab.add_user("alice")
    await sign_in(app, fake_gitlab, alice)
    csrf: Any = (await app.get("/api/v1/auth/session")).json()["csrf_token"]
    org = (await app.get("/api/v1/organizations")).json()["items"][0]["id"]
    missing = await app.post(
        f"/orgs/{org}/repositories/gitlab",
        data={"project": "acme/none", "token": fake_gitlab.user_token(alice), "csrf_token": csrf},
        headers=HTML,
    )
    assert missing.status_code == 404
    assert "text/html" in missing.headers["content-type"]
    assert "GitLab project not found, or the token cannot see it" in missing.text
