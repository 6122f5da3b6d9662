"""Connecting a GitLab project with an access token, through the API: listing, connecting, the stored token,
the webhook, metadata sync, and the analysis job reading the project over GitLab's API."""

from __future__ import annotations

import socket
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from autodevops.analysis import tasks as analysis_tasks
from autodevops.config import Settings
from autodevops.crypto import CryptoError, Keyring, aad
from autodevops.db import Database, tenant_session
from autodevops.gitlab import secrets as sealed
from autodevops.gitlab import service
from autodevops.gitlab.client import GitLabClient
from autodevops.jobs.registry import JobContext
from autodevops.models import Analysis, GitLabConnection
from platform_support import add_member

from .conftest import gitlab_overrides, settings_for
from .fake_gitlab import FakeGitLab, FakeProject

pytestmark = pytest.mark.usefixtures("clean_db")

FILES = {
    "go.mod": "module example.com/api\n\ngo 1.22\n",
    "main.go": "package main\n\nfunc main() {}\n",
}


def keyring_of(client: httpx.AsyncClient) -> Keyring:
    transport: Any = client._transport
    return Keyring.from_settings(transport.app.state.settings)


async def connect(
    client: httpx.AsyncClient, tenant: Any, fake: FakeGitLab, *, level: int = 40
) -> tuple[FakeProject, str, dict[str, Any]]:
    project = fake.add_project("acme/api", files=dict(FILES))
    token = fake.project_token(project, level=level)
    body = {"organization_id": str(tenant.organization.id), "project": "acme/api", "token": token}
    created = await client.post("/api/v1/gitlab/repositories", json=body, headers=tenant.headers)
    assert created.status_code == 201, created.text
    return project, token, created.json()


async def test_search_lists_only_what_the_token_sees(
    app: httpx.AsyncClient, make_tenant: Any, fake_gitlab: FakeGitLab
) -> None:
    tenant = await make_tenant()
    alice, bob = fake_gitlab.add_user("alice"), fake_gitlab.add_user("bob")
    for n in range(120):
        fake_gitlab.add_project(f"acme/svc-{n:03}", members={alice: 30})
    fake_gitlab.add_project("bob/private", members={bob: 40})
    body: dict[str, Any] = {"token": fake_gitlab.user_token(alice)}
    first = await app.post("/api/v1/gitlab/projects/search", json=body, headers=tenant.headers)
    assert first.status_code == 200, first.text
    assert (len(first.json()["items"]), first.json()["next_page"]) == (100, 2)
    second = await app.post("/api/v1/gitlab/projects/search", json={**body, "page": 2}, headers=tenant.headers)
    assert (len(second.json()["items"]), second.json()["next_page"]) == (20, None)
    found = await app.post("/api/v1/gitlab/projects/search", json={**body, "search": "svc-119"}, headers=tenant.headers)
    assert [p["path_with_namespace"] for p in found.json()["items"]] == ["acme/svc-119"]
    revoked = await app.post(
        "/api/v1/gitlab/projects/search", json={"token": "glpat-revoked-token"}, headers=tenant.headers
    )
    assert revoked.status_code == 409
    assert "give a new token" in revoked.json()["detail"]


async def test_connecting_stores_the_token_encrypted_and_registers_the_webhook(
    app: httpx.AsyncClient, make_tenant: Any, fake_gitlab: FakeGitLab, database: Database
) -> None:
    tenant = await make_tenant()
    project, token, repository = await connect(app, tenant, fake_gitlab)
    assert (repository["source"], repository["name"], repository["default_branch"]) == ("gitlab", "acme/api", "main")
    assert repository["visibility"] == "private"

    read = await app.get(f"/api/v1/repositories/{repository['id']}/gitlab", headers=tenant.headers)
    assert read.json()["webhook_registered"] is True
    assert read.json()["full_path"] == "acme/api"
    [hook] = project.hooks
    assert hook["url"] == f"http://localhost:8000/api/v1/gitlab/webhooks/{repository['id']}"
    assert (hook["push_events"], hook["merge_requests_events"]) == (True, True)

    keyring = keyring_of(app)
    async with tenant_session(database, user_id=tenant.user.id) as session:
        connection = await session.get(GitLabConnection, uuid.UUID(repository["id"]))
        assert connection is not None
        assert token not in connection.token_enc
        assert sealed.connection_token(keyring, connection) == token
        assert sealed.unseal(keyring, connection, "webhook_secret") == hook["token"]
        # Bound to its row and purpose: the same ciphertext read as another row's, or as the secret, fails.
        with pytest.raises(CryptoError):
            keyring.decrypt(
                connection.token_enc, associated_data=aad("gitlab_connections", uuid.uuid4(), "access_token")
            )
        with pytest.raises(CryptoError):
            keyring.decrypt(
                connection.token_enc,
                associated_data=aad("gitlab_connections", connection.repository_id, "webhook_secret"),
            )

    again = await app.post(
        "/api/v1/gitlab/repositories",
        json={"organization_id": str(tenant.organization.id), "project": str(project.id), "token": token},
        headers=tenant.headers,
    )
    assert again.status_code == 409


async def test_a_developer_token_connects_without_a_webhook_and_says_why(
    app: httpx.AsyncClient, make_tenant: Any, fake_gitlab: FakeGitLab
) -> None:
    tenant = await make_tenant()
    project, _, repository = await connect(app, tenant, fake_gitlab, level=30)
    assert project.hooks == []
    read = await app.get(f"/api/v1/repositories/{repository['id']}/gitlab", headers=tenant.headers)
    assert read.json()["webhook_registered"] is False
    rotated = await app.post(f"/api/v1/repositories/{repository['id']}/gitlab/webhook-secret", headers=tenant.headers)
    assert rotated.status_code == 403
    assert "Maintainer" in rotated.json()["detail"]


async def test_a_project_the_token_cannot_see_is_not_connected(
    app: httpx.AsyncClient, make_tenant: Any, fake_gitlab: FakeGitLab
) -> None:
    tenant = await make_tenant()
    fake_gitlab.add_project("acme/secret", files=dict(FILES))
    other = fake_gitlab.add_project("acme/other", files=dict(FILES))
    body = {
        "organization_id": str(tenant.organization.id),
        "project": "acme/secret",
        "token": fake_gitlab.project_token(other),
    }
    response = await app.post("/api/v1/gitlab/repositories", json=body, headers=tenant.headers)
    assert response.status_code == 404
    assert (await app.get("/api/v1/repositories", headers=tenant.headers)).json()["items"] == []


async def test_another_organization_cannot_connect_or_read(
    app: httpx.AsyncClient, make_tenant: Any, fake_gitlab: FakeGitLab
) -> None:
    owner, stranger = await make_tenant(), await make_tenant()
    _, token, repository = await connect(app, owner, fake_gitlab)
    body = {"organization_id": str(owner.organization.id), "project": "acme/api", "token": token}
    assert (await app.post("/api/v1/gitlab/repositories", json=body, headers=stranger.headers)).status_code == 404
    for method, path in (
        ("GET", "gitlab"),
        ("POST", "gitlab/webhook-secret"),
        ("POST", "merge-request"),
        ("GET", "merge-requests"),
    ):
        url = f"/api/v1/repositories/{repository['id']}/{path}"
        assert (await app.request(method, url, headers=stranger.headers)).status_code == 404, path


async def test_sync_reads_default_branch_head_and_visibility(
    fake_gitlab: FakeGitLab, database: Database, make_tenant: Any, app: httpx.AsyncClient
) -> None:
    tenant = await make_tenant()
    project, token, repository = await connect(app, tenant, fake_gitlab)
    head = fake_gitlab.push(project, "trunk", {"README.md": "# api\n"})
    project.default_branch = "trunk"
    project.visibility = "internal"
    client = GitLabClient(settings_for(fake_gitlab))
    async with tenant_session(database, user_id=tenant.user.id) as session:
        connection = await session.get(GitLabConnection, uuid.UUID(repository["id"]))
        assert connection is not None
        metadata = await service.gitlab_metadata(client, connection, token)
    assert (metadata.default_branch, metadata.commit_sha, metadata.visibility) == ("trunk", head, "internal")


async def test_the_analysis_job_reads_the_project_without_a_clone(
    app: httpx.AsyncClient,
    make_tenant: Any,
    fake_gitlab: FakeGitLab,
    database: Database,
    pg_admin: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = await make_tenant()
    project, _, repository = await connect(app, tenant, fake_gitlab)
    started = await app.post(f"/api/v1/repositories/{repository['id']}/analyses", headers=tenant.headers)
    assert started.status_code in (200, 201, 202), started.text
    async with pg_admin.connect() as conn:
        job = (
            await conn.execute(
                text("SELECT id, name, payload, organization_id, queue FROM jobs WHERE name = 'analysis.run'")
            )
        ).one()
    # The worker's child reads its settings from the environment: point it at the fake GitLab.
    for name, value in gitlab_overrides(fake_gitlab).items():
        monkeypatch.setenv(f"AUTODEVOPS_{name.upper()}", ",".join(value) if isinstance(value, list) else str(value))

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
        analysis = await session.scalar(select(Analysis).where(Analysis.id == uuid.UUID(job.payload["analysis_id"])))
        assert analysis is not None
        assert analysis.status == "succeeded", analysis.error
        assert analysis.commit_sha == project.branches["main"]
        assert analysis.result is not None
        assert [s["language"] for s in analysis.result["stacks"]] == ["go"]
    assert fake_gitlab.count("GET", f"/api/v4/projects/{project.id}/repository/tree") == 1


async def test_the_sync_job_refreshes_a_gitlab_repository(
    app: httpx.AsyncClient,
    make_tenant: Any,
    fake_gitlab: FakeGitLab,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from autodevops.models import Repository
    from autodevops.repository import tasks as repository_tasks

    tenant = await make_tenant()
    project, _, repository = await connect(app, tenant, fake_gitlab)
    head = fake_gitlab.push(project, "main", {"README.md": "# api\n"})
    project.visibility = "public"
    # The job reads the process's settings: those of a worker pointed at the fake GitLab.
    monkeypatch.setattr("autodevops.repository.tasks.get_settings", lambda: settings_for(fake_gitlab))

    async def report(*_: Any, **__: Any) -> None:
        return None

    async with tenant_session(database, organization_id=tenant.organization.id) as session:
        ctx = JobContext(
            job_id=uuid.uuid4(),
            name=repository_tasks.NAME,
            queue="sync",
            organization_id=tenant.organization.id,
            payload={"repository_id": repository["id"]},
            attempt=1,
            correlation_id=None,
            session=session,
            report=report,
            deadline_s=30.0,
        )
        await repository_tasks.sync(ctx)
    async with tenant_session(database, organization_id=tenant.organization.id) as session:
        synced = await session.get(Repository, uuid.UUID(repository["id"]))
        assert synced is not None
        assert (synced.latest_commit_sha, synced.visibility, synced.default_branch) == (head, "public", "main")


async def test_a_project_over_the_plans_repositories_is_refused_before_gitlab_is_called(
    make_api_client: Any, pg_settings: Settings, make_tenant: Any, fake_gitlab: FakeGitLab
) -> None:
    free = pg_settings.plans["free"].model_copy(update={"repositories": 1})
    client = await make_api_client(**gitlab_overrides(fake_gitlab, plans={**pg_settings.plans, "free": free}))
    tenant = await make_tenant()
    await connect(client, tenant, fake_gitlab)
    second = fake_gitlab.add_project("acme/web", files=dict(FILES))
    body = {
        "organization_id": str(tenant.organization.id),
        "project": "acme/web",
        "token": fake_gitlab.project_token(second),
    }
    refused = await client.post("/api/v1/gitlab/repositories", json=body, headers=tenant.headers)
    assert refused.status_code == 402
    assert refused.json()["error"] == "quota_exceeded"
    assert (refused.json()["detail"]["limit"], refused.json()["detail"]["used"]) == ("repositories", 1)
    assert second.hooks == []  # refused before the hook is registered

    # The dashboard's form: the reason next to it, the project path kept, the token never echoed.
    html = {"Accept": "text/html", **tenant.headers}
    token = fake_gitlab.project_token(second)
    page = await client.post(
        f"/orgs/{tenant.organization.id}/repositories/gitlab",
        data={"project": "acme/web", "token": token},
        headers=html,
    )
    assert page.status_code == 402
    assert (
        '<p id="gitlab-error" class="error" role="alert">The free plan allows 1 repository and this organization has 1'
        in page.text
    )
    assert 'value="acme/web"' in page.text
    assert token not in page.text


async def test_disconnecting_removes_the_project_hook(
    app: httpx.AsyncClient, make_tenant: Any, fake_gitlab: FakeGitLab
) -> None:
    tenant = await make_tenant()
    project, _, repository = await connect(app, tenant, fake_gitlab)
    other = fake_gitlab.add_project("acme/other")
    other.hooks.append({"id": 7, "url": "https://ci.example.com/hook", "token": "theirs"})  # not ours: kept
    project.hooks.append({"id": 8, "url": "https://chat.example.com/hook", "token": "theirs"})
    deleted = await app.delete(f"/api/v1/repositories/{repository['id']}", headers=tenant.headers)
    assert deleted.status_code == 204, deleted.text
    assert "autodevops-warning" not in deleted.headers
    assert [h["id"] for h in project.hooks] == [8]
    assert [h["id"] for h in other.hooks] == [7]
    assert (await app.get(f"/api/v1/repositories/{repository['id']}", headers=tenant.headers)).status_code == 404


async def test_a_hook_already_deleted_on_gitlab_is_not_a_problem(
    app: httpx.AsyncClient, make_tenant: Any, fake_gitlab: FakeGitLab
) -> None:
    tenant = await make_tenant()
    project, _, repository = await connect(app, tenant, fake_gitlab)
    project.hooks.clear()
    deleted = await app.delete(f"/api/v1/repositories/{repository['id']}", headers=tenant.headers)
    assert deleted.status_code == 204
    assert "autodevops-warning" not in deleted.headers
    events = await app.get(f"/api/v1/organizations/{tenant.organization.id}/audit-events", headers=tenant.headers)
    assert "gitlab.webhook_not_removed" not in [e["action"] for e in events.json()["items"]]


@pytest.mark.parametrize("failure", ["token revoked", "rate limited"])
async def test_disconnecting_completes_when_gitlab_refuses_and_says_the_hook_may_remain(
    app: httpx.AsyncClient, make_tenant: Any, fake_gitlab: FakeGitLab, failure: str
) -> None:
    tenant = await make_tenant()
    project, token, repository = await connect(app, tenant, fake_gitlab)
    [hook] = project.hooks
    if failure == "token revoked":
        del fake_gitlab.tokens[token]
    else:
        fake_gitlab.rate_limit(f"/api/v4/projects/{project.id}/hooks", reset_in=3600)
    deleted = await app.delete(f"/api/v1/repositories/{repository['id']}", headers=tenant.headers)
    assert deleted.status_code == 204, deleted.text
    warning = deleted.headers["autodevops-warning"]
    assert "could not remove its webhook from GitLab" in warning
    assert project.hooks == [hook]  # left on GitLab, and said so
    assert (await app.get(f"/api/v1/repositories/{repository['id']}", headers=tenant.headers)).status_code == 404
    events = await app.get(f"/api/v1/organizations/{tenant.organization.id}/audit-events", headers=tenant.headers)
    [event] = [e for e in events.json()["items"] if e["action"] == "gitlab.webhook_not_removed"]
    assert event["target_id"] == repository["id"]
    assert (event["data"]["hook_id"], event["data"]["project_id"]) == (hook["id"], project.id)
    assert "repository.disconnected" in [e["action"] for e in events.json()["items"]]
    # A delivery from the hook left behind is refused: the repository is gone.
    delivered = await app.post(
        f"/api/v1/gitlab/webhooks/{repository['id']}",
        json={"object_kind": "push"},
        headers={
            "X-Gitlab-Token": hook["token"],
            "X-Gitlab-Event": "Push Hook",
            "X-Gitlab-Event-UUID": str(uuid.uuid4()),
        },
    )
    assert delivered.status_code == 401, delivered.text


async def test_only_a_manager_removes_the_hook(
    app: httpx.AsyncClient, make_tenant: Any, fake_gitlab: FakeGitLab
) -> None:
    tenant = await make_tenant()
    project, _, repository = await connect(app, tenant, fake_gitlab)
    outsider = await make_tenant()
    refused = await app.delete(f"/api/v1/repositories/{repository['id']}", headers=outsider.headers)
    assert refused.status_code == 404
    assert len(project.hooks) == 1
    assert fake_gitlab.count("DELETE", f"/api/v4/projects/{project.id}/hooks") == 0


async def test_disconnecting_completes_when_gitlab_is_unreachable(
    app: httpx.AsyncClient, make_api_client: Any, make_tenant: Any, fake_gitlab: FakeGitLab
) -> None:
    tenant = await make_tenant()
    project, _, repository = await connect(app, tenant, fake_gitlab)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: connections are refused
    offline = await make_api_client(
        **gitlab_overrides(
            fake_gitlab, gitlab_url=f"http://127.0.0.1:{port}", git_private_servers=[f"127.0.0.1:{port}"]
        )
    )
    deleted = await offline.delete(f"/api/v1/repositories/{repository['id']}", headers=tenant.headers)
    assert deleted.status_code == 204, deleted.text
    assert "GitLab is unreachable" in deleted.headers["autodevops-warning"]
    assert len(project.hooks) == 1
    assert (await app.get(f"/api/v1/repositories/{repository['id']}", headers=tenant.headers)).status_code == 404


@pytest.mark.parametrize("token_revoked", [False, True])
async def test_disconnecting_from_the_dashboard_removes_the_hook_or_says_it_may_remain(
    app: httpx.AsyncClient, make_tenant: Any, fake_gitlab: FakeGitLab, token_revoked: bool
) -> None:
    tenant = await make_tenant()
    html = {"Accept": "text/html", **tenant.headers}
    project, token, repository = await connect(app, tenant, fake_gitlab)
    if token_revoked:
        del fake_gitlab.tokens[token]
    done = await app.post(f"/repositories/{repository['id']}/disconnect", headers=html)
    assert done.status_code == 303, done.text
    assert (await app.get(f"/api/v1/repositories/{repository['id']}", headers=tenant.headers)).status_code == 404
    page = await app.get(done.headers["location"], headers=html)
    assert "Disconnected acme/api." in page.text
    if token_revoked:
        # Still disconnected; the next page says the hook may remain, as the API's warning header does.
        assert len(project.hooks) == 1
        assert "could not remove its webhook from GitLab" in page.text
    else:
        assert project.hooks == []
        assert "could not remove its webhook" not in page.text


@pytest.mark.parametrize("token_revoked", [False, True])
async def test_deleting_the_organization_removes_its_project_hooks(
    app: httpx.AsyncClient, make_tenant: Any, fake_gitlab: FakeGitLab, token_revoked: bool
) -> None:
    tenant = await make_tenant()
    project, token, repository = await connect(app, tenant, fake_gitlab)
    project.hooks.append({"id": 8, "url": "https://chat.example.com/hook", "token": "theirs"})
    if token_revoked:
        del fake_gitlab.tokens[token]
    deleted = await app.delete(f"/api/v1/organizations/{tenant.organization.id}", headers=tenant.headers)
    assert deleted.status_code == 204, deleted.text
    assert (await app.get(f"/api/v1/repositories/{repository['id']}", headers=tenant.headers)).status_code == 404
    if token_revoked:
        # Deleted all the same; the header names the project whose hook may remain, as disconnecting does.
        assert len(project.hooks) == 2
        warning = deleted.headers["autodevops-warning"]
        assert warning.startswith("acme/api: ")
        assert "could not remove its webhook from GitLab" in warning
    else:
        assert [h["id"] for h in project.hooks] == [8]  # ours removed, the project's own kept
        assert "autodevops-warning" not in deleted.headers


async def test_an_admin_refused_deleting_the_organization_leaves_the_hooks(
    app: httpx.AsyncClient, make_tenant: Any, fake_gitlab: FakeGitLab, database: Database
) -> None:
    tenant = await make_tenant()
    admin = await make_tenant()
    await add_member(database, tenant, admin, "admin")
    project, _, repository = await connect(app, tenant, fake_gitlab)
    refused = await app.delete(f"/api/v1/organizations/{tenant.organization.id}", headers=admin.headers)
    assert refused.status_code == 403, refused.text
    assert len(project.hooks) == 1
    assert fake_gitlab.count("DELETE", f"/api/v4/projects/{project.id}/hooks") == 0
    html = {"Accept": "text/html", **admin.headers}
    page = await app.post(f"/orgs/{tenant.organization.id}/delete", headers=html)
    assert page.status_code == 403
    assert len(project.hooks) == 1
    assert (await app.get(f"/api/v1/repositories/{repository['id']}", headers=tenant.headers)).status_code == 200


async def test_deleting_the_organization_from_the_dashboard_removes_its_project_hooks(
    app: httpx.AsyncClient, make_tenant: Any, fake_gitlab: FakeGitLab
) -> None:
    tenant = await make_tenant()
    html = {"Accept": "text/html", **tenant.headers}
    project, _, _ = await connect(app, tenant, fake_gitlab)
    done = await app.post(f"/orgs/{tenant.organization.id}/delete", headers=html)
    assert done.status_code == 303, done.text
    assert project.hooks == []
    page = await app.get(done.headers["location"], headers=html)
    assert "Deleted Acme." in page.text
