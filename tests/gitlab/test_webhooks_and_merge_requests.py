"""GitLab webhooks (secret, rotation grace window, dedupe, size limit), the pipeline merge request, CI drift
after a push, and `keys rotate` over GitLab connections."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from autodevops.config import Settings
from autodevops.crypto import Key, Keyring, key_id_of
from autodevops.db import Database, tenant_session
from autodevops.gitlab import secrets as sealed
from autodevops.gitlab import service
from autodevops.gitlab.client import CI_FILE, MR_BRANCH
from autodevops.models import Analysis, GitLabConnection, Pipeline, utcnow
from autodevops.webhook_retention import prune_webhook_deliveries

from .conftest import JOBS_PREFIX, gitlab_overrides, settings_for
from .fake_gitlab import FakeGitLab, FakeProject
from .test_connect import connect

pytestmark = pytest.mark.usefixtures("clean_db")

CI = "stages: [test]\ntest:\n  stage: test\n  script: [go test ./...]\n"


def hook_url(repository: dict[str, Any]) -> str:
    return f"/api/v1/gitlab/webhooks/{repository['id']}"


def deliver(
    client: httpx.AsyncClient, repository: dict[str, Any], payload: dict[str, Any], *, token: str | None, **headers: str
) -> Any:
    sent = {"Content-Type": "application/json", "X-Gitlab-Event": headers.pop("event", "Push Hook")}
    sent["X-Gitlab-Event-UUID"] = headers.pop("uuid", str(uuid.uuid4()))
    if token is not None:
        sent["X-Gitlab-Token"] = token
    sent.update({k.replace("_", "-"): v for k, v in headers.items()})
    return client.post(hook_url(repository), json=payload, headers=sent)


def push(project: FakeProject, after: str, branch: str = "main") -> dict[str, Any]:
    return {
        "object_kind": "push",
        "ref": f"refs/heads/{branch}",
        "before": "0" * 40,
        "after": after,
        "project": {"id": project.id, "default_branch": "main", "path_with_namespace": project.path_with_namespace},
    }


async def jobs_named(pg_admin: AsyncEngine, name: str) -> int:
    async with pg_admin.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM jobs WHERE name = :n"), {"n": name}) or 0)


async def test_push_to_the_default_branch_queues_an_analysis_and_a_drift_check_once(
    app: httpx.AsyncClient, make_tenant: Any, fake_gitlab: FakeGitLab, pg_admin: AsyncEngine
) -> None:
    project, _, repository = await connect(app, await make_tenant(), fake_gitlab)
    secret = fake_gitlab.hook_token(project)
    after = fake_gitlab.push(project, "main", {"go.mod": "module x\n"})
    first = await deliver(app, repository, push(project, after), token=secret, Idempotency_Key="delivery-1")
    assert first.status_code == 202, first.text
    assert first.json() == {"delivery": "delivery-1", "outcome": "queued 1 analysis"}
    # GitLab retries with the same Idempotency-Key (and a new event UUID): nothing more is queued.
    again = await deliver(app, repository, push(project, after), token=secret, Idempotency_Key="delivery-1")
    assert again.json()["outcome"] == "duplicate"
    assert await jobs_named(pg_admin, "analysis.run") == 1
    assert await jobs_named(pg_admin, "gitlab.check_drift") == 1
    other = await deliver(app, repository, push(project, after, branch="feature"), token=secret)
    assert other.json()["outcome"] == "ignored"
    deleted = await deliver(app, repository, push(project, "0" * 40), token=secret)
    assert deleted.json()["outcome"] == "ignored"


async def test_the_secret_is_required_and_the_answer_reveals_no_connection(
    app: httpx.AsyncClient, make_tenant: Any, fake_gitlab: FakeGitLab, pg_admin: AsyncEngine
) -> None:
    project, _, repository = await connect(app, await make_tenant(), fake_gitlab)
    payload = push(project, fake_gitlab.push(project, "main", {"a": "b"}))
    for token in (None, "wrong-secret", fake_gitlab.hook_token(project) + "x"):
        refused = await deliver(app, repository, payload, token=token)
        assert refused.status_code == 401
        assert refused.json()["error"] == "unauthorized"
    unknown = await deliver(app, {"id": str(uuid.uuid4())}, payload, token=fake_gitlab.hook_token(project))
    assert (unknown.status_code, unknown.json()) == (refused.status_code, refused.json())
    missing_id = await app.post(
        hook_url(repository),
        json=payload,
        headers={"X-Gitlab-Token": fake_gitlab.hook_token(project), "X-Gitlab-Event": "Push Hook"},
    )
    assert missing_id.status_code == 400
    assert await jobs_named(pg_admin, "analysis.run") == 0


async def test_a_body_over_the_limit_is_refused(
    make_api_client: Any, make_tenant: Any, fake_gitlab: FakeGitLab, pg_admin: AsyncEngine
) -> None:
    overrides = gitlab_overrides(fake_gitlab, gitlab_webhook_max_bytes=2048, jobs_key_prefix=JOBS_PREFIX)
    client: httpx.AsyncClient = await make_api_client(**overrides)
    project, _, repository = await connect(client, await make_tenant(), fake_gitlab)
    payload = {**push(project, "a" * 40), "commits": [{"message": "x" * 4096}]}
    refused = await deliver(client, repository, payload, token=fake_gitlab.hook_token(project))
    assert refused.status_code == 413
    assert await jobs_named(pg_admin, "analysis.run") == 0


async def test_secret_rotation_keeps_the_previous_secret_for_the_grace_window(
    app: httpx.AsyncClient, make_tenant: Any, fake_gitlab: FakeGitLab, database: Database
) -> None:
    tenant = await make_tenant()
    project, _, repository = await connect(app, tenant, fake_gitlab)
    old = fake_gitlab.hook_token(project)
    rotated = await app.post(f"/api/v1/repositories/{repository['id']}/gitlab/webhook-secret", headers=tenant.headers)
    assert rotated.status_code == 200, rotated.text
    new = fake_gitlab.hook_token(project)
    assert new != old
    assert len(project.hooks) == 1  # the same hook, updated
    payload = push(project, fake_gitlab.push(project, "main", {"a": "b"}))
    assert (await deliver(app, repository, payload, token=new)).status_code == 202
    assert (await deliver(app, repository, payload, token=old)).status_code == 202  # within the grace window
    async with tenant_session(database, user_id=tenant.user.id) as session:
        connection = await session.get(GitLabConnection, uuid.UUID(repository["id"]))
        assert connection is not None
        connection.previous_webhook_secret_until = utcnow() - timedelta(seconds=1)
    assert (await deliver(app, repository, payload, token=old)).status_code == 401
    assert (await deliver(app, repository, payload, token=new)).status_code == 202


async def _with_pipeline(database: Database, tenant: Any, repository: dict[str, Any], content: str) -> None:
    async with tenant_session(database, user_id=tenant.user.id) as session:
        analysis = Analysis(
            organization_id=tenant.organization.id,
            repository_id=uuid.UUID(repository["id"]),
            status="succeeded",
            result={"stacks": [{"path": ".", "language": "go", "provenance": {}}], "findings": []},
        )
        session.add(analysis)
        await session.flush()
        files = [{"path": CI_FILE, "content": content}, {"path": ".github/workflows/ci.yml", "content": "on: push\n"}]
        session.add(
            Pipeline(
                organization_id=tenant.organization.id,
                repository_id=analysis.repository_id,
                analysis_id=analysis.id,
                files=files,
            )
        )


async def test_merge_request_adds_only_the_gitlab_ci_file_then_updates_in_place(
    app: httpx.AsyncClient, make_tenant: Any, fake_gitlab: FakeGitLab, database: Database
) -> None:
    tenant = await make_tenant()
    project, _, repository = await connect(app, tenant, fake_gitlab)
    url = f"/api/v1/repositories/{repository['id']}/merge-request"
    assert (await app.post(url, headers=tenant.headers)).status_code == 409  # nothing generated yet
    await _with_pipeline(database, tenant, repository, CI)

    first = await app.post(url, headers=tenant.headers)
    assert first.status_code == 200, first.text
    mr = first.json()
    assert (mr["iid"], mr["state"], mr["source_branch"]) == (1, "opened", MR_BRANCH)
    on_branch = fake_gitlab.files_at(project, MR_BRANCH)
    assert set(on_branch) - set(FILES_AT_MAIN(fake_gitlab, project)) == {CI_FILE}  # nothing else added
    assert on_branch[CI_FILE] == CI.encode()
    [opened] = project.merge_requests
    assert opened["target_branch"] == "main"
    assert "merge request adds the CI pipeline" in opened["description"]
    assert f"`{CI_FILE}`" in opened["description"]
    assert ".github/workflows" not in opened["description"]  # only the file this merge request adds

    head = project.branches[MR_BRANCH]
    again = await app.post(url, headers=tenant.headers)
    assert again.json()["iid"] == 1
    assert project.branches[MR_BRANCH] == head  # same content: no new commit
    assert len(project.merge_requests) == 1

    listed = await app.get(f"/api/v1/repositories/{repository['id']}/merge-requests", headers=tenant.headers)
    assert [m["iid"] for m in listed.json()] == [1]

    merged = {
        "object_kind": "merge_request",
        "project": {"id": project.id},
        "object_attributes": {"iid": 1, "state": "merged", "action": "merge", "source_branch": MR_BRANCH},
    }
    answer = await deliver(app, repository, merged, token=fake_gitlab.hook_token(project), event="Merge Request Hook")
    assert answer.json()["outcome"] == "merge request merged"
    listed = await app.get(f"/api/v1/repositories/{repository['id']}/merge-requests", headers=tenant.headers)
    assert listed.json()[0]["state"] == "merged"


def FILES_AT_MAIN(fake: FakeGitLab, project: FakeProject) -> dict[str, bytes]:
    return fake.files_at(project, "main")


async def test_a_protected_branch_is_reported_clearly(
    app: httpx.AsyncClient, make_tenant: Any, fake_gitlab: FakeGitLab, database: Database
) -> None:
    tenant = await make_tenant()
    project, _, repository = await connect(app, tenant, fake_gitlab)
    await _with_pipeline(database, tenant, repository, CI)
    project.protected.add(MR_BRANCH)
    refused = await app.post(f"/api/v1/repositories/{repository['id']}/merge-request", headers=tenant.headers)
    assert refused.status_code == 403
    detail = refused.json()["detail"]
    assert "You are not allowed to push into this branch" in detail
    assert "protected branch" in detail
    assert project.merge_requests == []


async def test_drift_is_recorded_when_the_committed_ci_differs(
    fake_gitlab: FakeGitLab, app: httpx.AsyncClient, make_tenant: Any, database: Database
) -> None:
    tenant = await make_tenant()
    project, _, repository = await connect(app, tenant, fake_gitlab)
    await _with_pipeline(database, tenant, repository, CI)
    settings = settings_for(fake_gitlab)
    keyring = Keyring.from_settings(settings)
    differing = fake_gitlab.push(project, "main", {**FILES_AT_MAIN(fake_gitlab, project), CI_FILE: "old: ci\n"})
    matching = fake_gitlab.push(project, "main", {**FILES_AT_MAIN(fake_gitlab, project), CI_FILE: CI + "\n"})
    async with tenant_session(database, organization_id=tenant.organization.id) as session:
        finding = await service.check_drift(session, keyring, settings, uuid.UUID(repository["id"]), differing)
        assert finding is not None
        assert finding.differences == [{"path": CI_FILE, "status": "differs"}]
        assert await service.check_drift(session, keyring, settings, uuid.UUID(repository["id"]), matching) is None
    drift = await app.get(f"/api/v1/repositories/{repository['id']}/drift", headers=tenant.headers)
    assert [d["commit_sha"] for d in drift.json()] == [differing]


async def test_keys_rotate_moves_gitlab_secrets_to_the_new_key(
    make_api_client: Any, make_tenant: Any, fake_gitlab: FakeGitLab, pg_admin: AsyncEngine, database: Database
) -> None:
    old, new = Key.generate("k1"), Key.generate("k2")
    client: httpx.AsyncClient = await make_api_client(**gitlab_overrides(fake_gitlab, token_encryption_key=old.spec()))
    tenant = await make_tenant()
    project, token, repository = await connect(client, tenant, fake_gitlab)
    report = await sealed.rotate_connection_secrets(
        async_sessionmaker(pg_admin, expire_on_commit=False), Keyring(new, [old]), batch_size=1
    )
    assert (report.scanned, report.rotated, report.failed) == (1, 1, [])
    async with tenant_session(database, user_id=tenant.user.id) as session:
        connection = await session.get(GitLabConnection, uuid.UUID(repository["id"]))
        assert connection is not None
        assert {key_id_of(connection.token_enc), key_id_of(connection.webhook_secret_enc or "")} == {"k2"}
        only_new = Keyring(new)
        assert sealed.connection_token(only_new, connection) == token
        assert sealed.unseal(only_new, connection, "webhook_secret") == fake_gitlab.hook_token(project)
    again = await sealed.rotate_connection_secrets(
        async_sessionmaker(pg_admin, expire_on_commit=False), Keyring(new, [old])
    )
    assert (again.rotated, again.current) == (0, 1)


async def test_delivery_ids_count_per_connection(
    app: httpx.AsyncClient, make_tenant: Any, fake_gitlab: FakeGitLab, pg_admin: AsyncEngine
) -> None:
    first_project, _, first = await connect(app, await make_tenant(), fake_gitlab)
    other = fake_gitlab.add_project("other/api", files={"go.mod": "module y\n"})
    tenant = await make_tenant()
    body = {
        "organization_id": str(tenant.organization.id),
        "project": "other/api",
        "token": fake_gitlab.project_token(other),
    }
    second = (await app.post("/api/v1/gitlab/repositories", json=body, headers=tenant.headers)).json()
    # The same id sent to one connection first (by anyone holding its secret) does not silence the other's.
    for project, repository in ((first_project, first), (other, second)):
        after = fake_gitlab.push(project, "main", {"a": "b"})
        answer = await deliver(
            app, repository, push(project, after), token=fake_gitlab.hook_token(project), Idempotency_Key="same-id"
        )
        assert answer.json()["outcome"] == "queued 1 analysis"
    assert await jobs_named(pg_admin, "analysis.run") == 2


async def test_pruning_forgets_only_deliveries_older_than_the_retention(
    app: httpx.AsyncClient,
    make_tenant: Any,
    fake_gitlab: FakeGitLab,
    pg_admin: AsyncEngine,
    database: Database,
    pg_settings: Settings,
) -> None:
    project, _, repository = await connect(app, await make_tenant(), fake_gitlab)
    secret = fake_gitlab.hook_token(project)
    after = fake_gitlab.push(project, "main", {"go.mod": "module x\n"})
    for key in ("recent", "old-1", "old-2", "old-3"):
        sent = await deliver(app, repository, push(project, after), token=secret, Idempotency_Key=key)
        assert sent.status_code == 202, sent.text
    keep = hashlib.sha256(f"{repository['id']}:recent".encode()).hexdigest()
    async with pg_admin.begin() as conn:
        # One just inside the 30-day retention, three past it.
        await conn.execute(
            text(
                "UPDATE gitlab_webhook_deliveries SET received_at = now() - CASE WHEN delivery_id = :keep "
                "THEN interval '29 days 23 hours' ELSE interval '31 days' END"
            ),
            {"keep": keep},
        )
    settings = pg_settings.model_copy(update={"webhook_delivery_retention_days": 30, "webhook_delivery_prune_batch": 2})
    result = await prune_webhook_deliveries(database, settings)
    assert result.deleted["gitlab"] == 3  # in two batches of at most two
    async with pg_admin.connect() as conn:
        assert (await conn.scalars(text("SELECT delivery_id FROM gitlab_webhook_deliveries"))).all() == [keep]
    # Inside the window the delivery is still refused as a duplicate; a pruned one is news again.
    again = await deliver(app, repository, push(project, after), token=secret, Idempotency_Key="recent")
    assert again.json()["outcome"] == "duplicate"
    forgotten = await deliver(app, repository, push(project, after), token=secret, Idempotency_Key="old-1")
    assert forgotten.json()["outcome"] != "duplicate"
    assert (await prune_webhook_deliveries(database, settings)).total == 0
