"""`POST /api/v1/github/webhooks`: signatures, size limit, deduplication, and events turned into jobs."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import text

from autodevops.config import Settings
from autodevops.db import tenant_session
from autodevops.github import service
from autodevops.github.client import PR_BRANCH, GitHubClient
from autodevops.github.signature import sign
from autodevops.models import GitHubInstallation, GitHubPullRequest, GitHubRepositoryLink, Repository
from autodevops.webhook_retention import prune_webhook_deliveries, retention
from platform_support import forget_redis_keys

from .conftest import WEBHOOK_SECRET, app_overrides, settings_for
from .fake_github import FakeGitHub

URL = "/api/v1/github/webhooks"
pytestmark = pytest.mark.usefixtures("clean_db")


def headers(body: bytes, event: str, *, secret: str = WEBHOOK_SECRET, delivery: str | None = None) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(secret, body),
    }


async def deliver(
    client: httpx.AsyncClient, event: str, payload: dict[str, Any], *, delivery: str | None = None
) -> httpx.Response:
    body = json.dumps(payload).encode()
    return await client.post(URL, content=body, headers=headers(body, event, delivery=delivery))


async def jobs(pg_admin: Any) -> list[tuple[str, dict[str, Any]]]:
    async with pg_admin.connect() as conn:
        rows = (await conn.execute(text("SELECT name, payload FROM jobs ORDER BY created_at"))).all()
    return [(r.name, r.payload) for r in rows]


async def test_published_test_vector_passes_signature_check(make_api_client: Any, fake_github: FakeGitHub) -> None:
    client = await make_api_client(**app_overrides(fake_github, github_webhook_secret="It's a Secret to Everybody"))
    vector = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    }
    accepted_signature = await client.post(URL, content=b"Hello, World!", headers=vector)
    # Past the signature check (not 401); refused only because the vector's payload is not JSON.
    assert accepted_signature.status_code == 400
    assert "not JSON" in accepted_signature.json()["detail"]
    tampered = await client.post(URL, content=b"Hello, World?", headers=vector)
    assert tampered.status_code == 401


async def test_missing_or_wrong_signature_is_401(app_client: httpx.AsyncClient, pg_admin: Any) -> None:
    body = b'{"zen": "Keep it logically awesome."}'
    missing = headers(body, "ping")
    del missing["X-Hub-Signature-256"]
    assert (await app_client.post(URL, content=body, headers=missing)).status_code == 401
    wrong = headers(body, "ping", secret="not-the-secret")
    response = await app_client.post(URL, content=body, headers=wrong)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    async with pg_admin.connect() as conn:  # nothing recorded for unauthenticated requests
        assert await conn.scalar(text("SELECT count(*) FROM github_webhook_deliveries")) == 0


async def test_oversized_payload_is_413(make_api_client: Any, fake_github: FakeGitHub) -> None:
    client = await make_api_client(**app_overrides(fake_github, github_webhook_max_bytes=1024))
    body = json.dumps({"padding": "x" * 2000}).encode()
    response = await client.post(URL, content=body, headers=headers(body, "push"))
    assert response.status_code == 413


async def test_ping_replay_and_unknown_events(app_client: httpx.AsyncClient, pg_admin: Any) -> None:
    delivery = str(uuid.uuid4())
    ping = await deliver(app_client, "ping", {"zen": "Design for failure.", "hook_id": 1}, delivery=delivery)
    assert ping.status_code == 200
    assert ping.json()["outcome"] == "pong"
    replay = await deliver(app_client, "ping", {"zen": "Design for failure.", "hook_id": 1}, delivery=delivery)
    assert replay.status_code == 202
    assert replay.json()["outcome"] == "duplicate"
    unknown = await deliver(app_client, "star", {"action": "created"})
    assert unknown.status_code == 202
    assert unknown.json()["outcome"] == "ignored"
    async with pg_admin.connect() as conn:
        rows = (await conn.execute(text("SELECT event, outcome FROM github_webhook_deliveries ORDER BY event"))).all()
    assert [(r.event, r.outcome) for r in rows] == [("ping", "pong"), ("star", "ignored")]


async def connected_repository(database: Any, make_tenant: Any, *, github_repo_id: int, installation_id: int) -> Any:
    tenant = await make_tenant()
    async with tenant_session(database, user_id=tenant.user_id) as session:
        repository = Repository(
            organization_id=tenant.organization_id,
            name="app",
            source="github",
            clone_url="https://github.example/octo/app.git",
            github_full_name="octo/app",
            default_branch="main",
        )
        session.add(repository)
        await session.flush()
        session.add(
            GitHubRepositoryLink(
                repository_id=repository.id,
                organization_id=tenant.organization_id,
                installation_id=installation_id,
                github_repo_id=github_repo_id,
                full_name="octo/app",
            )
        )
        session.add(
            GitHubInstallation(
                organization_id=tenant.organization_id,
                installation_id=installation_id,
                account_login="octo",
                account_type="User",
            )
        )
    return tenant, repository


def push(repo_id: int, branch: str, **extra: Any) -> dict[str, Any]:
    return {
        "ref": f"refs/heads/{branch}",
        "after": "a" * 40,
        "deleted": False,
        "repository": {"id": repo_id, "full_name": "octo/app", "default_branch": "main"},
        **extra,
    }


async def test_push_to_default_branch_queues_one_analysis(
    app_client: httpx.AsyncClient, database: Any, make_tenant: Any, pg_admin: Any
) -> None:
    tenant, repository = await connected_repository(database, make_tenant, github_repo_id=77, installation_id=5)
    delivery = str(uuid.uuid4())
    first = await deliver(app_client, "push", push(77, "main"), delivery=delivery)
    assert first.status_code == 202
    assert first.json()["outcome"] == "queued 1 analysis"
    assert (await deliver(app_client, "push", push(77, "main"), delivery=delivery)).json()["outcome"] == "duplicate"
    assert (await deliver(app_client, "push", push(77, "feature"))).json()["outcome"] == "ignored"
    assert (await deliver(app_client, "push", push(78, "main"))).json()["outcome"] == "ignored"
    assert (await deliver(app_client, "push", push(77, "main", deleted=True))).json()["outcome"] == "ignored"

    queued = await jobs(pg_admin)
    assert [name for name, _ in queued] == ["analysis.run", "github.check_drift"]
    assert queued[0][1]["repository_id"] == str(repository.id)
    assert queued[1][1] == {"repository_id": str(repository.id), "commit_sha": "a" * 40}
    async with pg_admin.connect() as conn:
        analysis = (await conn.execute(text("SELECT repository_id, status, ref, organization_id FROM analyses"))).one()
    assert (analysis.repository_id, analysis.status, analysis.ref) == (repository.id, "pending", "main")
    assert analysis.organization_id == tenant.organization_id


async def test_a_push_over_the_daily_analyses_is_recorded_and_skipped(
    make_api_client: Any, fake_github: FakeGitHub, database: Any, make_tenant: Any, pg_admin: Any
) -> None:
    from autodevops.config import PlanLimits

    from .conftest import JOBS_PREFIX

    none_left = PlanLimits(
        repositories=5,
        analyses_per_day=0,
        ai_tokens_per_month=0,
        concurrent_jobs=1,
        api_requests_per_minute=60,
        queue_cost=4,
    )
    client = await make_api_client(**app_overrides(fake_github, jobs_key_prefix=JOBS_PREFIX), plans={"free": none_left})
    try:
        tenant, _repository = await connected_repository(database, make_tenant, github_repo_id=79, installation_id=6)
        assert (await deliver(client, "push", push(79, "main"))).json()["outcome"] == "ignored"
    finally:
        await forget_redis_keys(JOBS_PREFIX)
    assert await jobs(pg_admin) == []
    async with pg_admin.connect() as conn:
        skipped = (
            await conn.execute(text("SELECT organization_id, data FROM audit_events WHERE action = 'analysis.skipped'"))
        ).one()
    assert skipped.organization_id == tenant.organization_id
    assert (skipped.data["reason"], skipped.data["limit"], skipped.data["ref"]) == (
        "quota_exceeded",
        "analyses_per_day",
        "main",
    )


async def test_installation_events_queue_a_sync_that_applies_changes(
    app_client: httpx.AsyncClient, database: Any, make_tenant: Any, pg_admin: Any, fake_github: FakeGitHub
) -> None:
    octo = fake_github.add_user("octo")
    iid = fake_github.add_installation("octo", users=[octo])
    gh_repo = fake_github.add_repo(iid, "octo", "renamed-app", {"README.md": "hi"}, branch="trunk")
    tenant, repository = await connected_repository(
        database, make_tenant, github_repo_id=gh_repo.id, installation_id=iid
    )
    added = await deliver(
        app_client,
        "installation_repositories",
        {"action": "added", "installation": {"id": iid}, "repositories_added": [{"id": gh_repo.id}]},
    )
    assert added.json()["outcome"] == "queued 1 sync"
    assert (await deliver(app_client, "installation", {"action": "created", "installation": {"id": 999}})).json()[
        "outcome"
    ] == "ignored"
    queued = await jobs(pg_admin)
    assert queued == [("github.sync_installation", {"installation_id": iid, "action": "added"})]

    # The job body, as the worker runs it (organization context): names and default branch follow GitHub.
    client = GitHubClient(settings_for(fake_github))
    async with tenant_session(database, organization_id=tenant.organization_id) as session:
        await service.sync_installation(session, client, tenant.organization_id, iid, "added")
    async with tenant_session(database, organization_id=tenant.organization_id) as session:
        refreshed = await session.get(Repository, repository.id)
        assert refreshed is not None
        assert refreshed.github_full_name == "octo/renamed-app"
        assert refreshed.default_branch == "trunk"
        await service.sync_installation(session, client, tenant.organization_id, iid, "deleted")
    async with pg_admin.connect() as conn:
        assert await conn.scalar(text("SELECT removed_at IS NOT NULL FROM github_installations"))


async def test_our_pull_request_closed_records_the_outcome(
    app_client: httpx.AsyncClient, database: Any, make_tenant: Any, pg_admin: Any
) -> None:
    tenant, repository = await connected_repository(database, make_tenant, github_repo_id=77, installation_id=5)
    async with tenant_session(database, user_id=tenant.user_id) as session:
        pr = GitHubPullRequest(
            organization_id=tenant.organization_id,
            repository_id=repository.id,
            full_name="octo/app",
            number=3,
            url="https://github.example/octo/app/pull/3",
            head_branch=PR_BRANCH,
            head_sha="b" * 40,
        )
        session.add(pr)

    def closed(number: int, ref: str, merged: bool) -> dict[str, Any]:
        return {
            "action": "closed",
            "repository": {"id": 77},
            "pull_request": {
                "number": number,
                "merged": merged,
                "merged_at": "2026-01-02T03:04:05Z" if merged else None,
                "closed_at": "2026-01-02T03:04:05Z",
                "head": {"ref": ref},
            },
        }

    assert (await deliver(app_client, "pull_request", closed(3, "feature", True))).json()["outcome"] == "ignored"
    assert (await deliver(app_client, "pull_request", closed(4, PR_BRANCH, True))).json()["outcome"] == "ignored"
    response = await deliver(app_client, "pull_request", closed(3, PR_BRANCH, True))
    assert response.json()["outcome"] == "queued 1 outcome"
    [(name, payload)] = await jobs(pg_admin)
    assert name == "github.record_pull_request"
    assert payload["merged"] is True

    async with tenant_session(database, organization_id=tenant.organization_id) as session:
        await service.record_pull_request_outcome(
            session, uuid.UUID(payload["pull_request_id"]), merged=payload["merged"], at=payload["at"]
        )
    async with tenant_session(database, organization_id=tenant.organization_id) as session:
        stored = await session.get(GitHubPullRequest, pr.id)
        assert stored is not None
        assert stored.state == "merged"
        assert stored.merged_at is not None
        assert stored.merged_at.isoformat() == "2026-01-02T03:04:05+00:00"


# ---- hardening: unsigned work, rate limits, nesting, replays ---------------------------------------------


class Tripwire:
    """A request body that records how much of it the server pulled, and can hold the upload open."""

    def __init__(self, chunks: int, *, hold: asyncio.Event | None = None) -> None:
        self.chunks = chunks
        self.hold = hold
        self.sent = 0
        self.holding = asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            if self.hold is not None and self.sent == 1:
                self.holding.set()
                await self.hold.wait()
            self.sent += 1
            yield b"x" * 65536


def unsigned_headers(**extra: str) -> dict[str, str]:
    return {"X-GitHub-Event": "push", "X-GitHub-Delivery": str(uuid.uuid4()), **extra}


async def test_a_missing_or_malformed_signature_is_refused_before_the_body_is_read(
    app_client: httpx.AsyncClient,
) -> None:
    # The assessment: the route buffered 25 MiB before looking at the signature.
    for header in ({}, {"X-Hub-Signature-256": "sha256=nothex"}, {"X-Hub-Signature-256": "sha1=" + "0" * 40}):
        body = Tripwire(400)  # 25 MiB if it were read
        response = await app_client.post(URL, content=body, headers=unsigned_headers(**header))
        assert response.status_code == 401
        assert body.sent <= 1


async def test_unsigned_bodies_received_at_once_are_capped(make_api_client: Any, fake_github: FakeGitHub) -> None:
    # The assessment: 12 concurrent unsigned 25 MB posts took the API from 148 MB to 584 MB.
    client = await make_api_client(**app_overrides(fake_github, github_webhook_concurrency=1))
    release = asyncio.Event()
    slow = Tripwire(4, hold=release)
    forged = {"X-Hub-Signature-256": sign("guessed", b"")}
    first = asyncio.create_task(client.post(URL, content=slow, headers=unsigned_headers(**forged)))
    await asyncio.wait_for(slow.holding.wait(), 30)  # the first upload holds the only slot
    second = await client.post(URL, content=b"{}", headers=unsigned_headers(**forged))
    assert second.status_code == 429
    assert second.headers["retry-after"] == "1"
    release.set()
    assert (await first).status_code == 401
    assert (await client.post(URL, content=b"{}", headers=unsigned_headers(**forged))).status_code == 401


async def test_the_webhook_route_is_rate_limited_per_ip_before_the_signature(
    make_api_client: Any, fake_github: FakeGitHub
) -> None:
    # The assessment: a rate-limited IP still got 401s, never 429.
    prefix = f"test-webhook-{uuid.uuid4().hex[:8]}"
    client = await make_api_client(
        **app_overrides(
            fake_github, rate_limit_enabled=True, rate_limit_key_prefix=prefix, rate_limit_webhooks_per_ip="2/minute"
        )
    )
    try:
        codes = [(await client.post(URL, content=b"{}", headers=unsigned_headers())).status_code for _ in range(3)]
        assert codes == [401, 401, 429]
        body = b'{"zen": "x"}'
        assert (await client.post(URL, content=body, headers=headers(body, "ping"))).status_code == 429
    finally:
        await forget_redis_keys(prefix)


@pytest.mark.parametrize("depth", [100, 100_000])
async def test_deeply_nested_json_is_a_400(app_client: httpx.AsyncClient, depth: int) -> None:
    # The assessment: a signed body nested 100k levels deep raised RecursionError: a 500.
    body = ('{"a":' + "[" * depth + "]" * depth + "}").encode()
    response = await app_client.post(URL, content=body, headers=headers(body, "push"))
    assert response.status_code == 400
    assert response.json() == {"error": "bad_request", "detail": "webhook body nests deeper than 64 levels"}


async def test_the_same_signed_body_under_a_new_delivery_id_is_a_replay(
    app_client: httpx.AsyncClient, pg_admin: Any
) -> None:
    body = json.dumps({"zen": "Half measures are as bad as nothing at all.", "hook_id": 7}).encode()
    first = await app_client.post(URL, content=body, headers=headers(body, "ping"))
    assert first.json()["outcome"] == "pong"
    replayed = await app_client.post(URL, content=body, headers=headers(body, "ping"))
    assert (replayed.status_code, replayed.json()["outcome"]) == (202, "duplicate")
    other = json.dumps({"zen": "Speak like a human.", "hook_id": 7}).encode()
    assert (await app_client.post(URL, content=other, headers=headers(other, "ping"))).json()["outcome"] == "pong"
    # Outside the replay window the body is a new delivery again.
    async with pg_admin.begin() as conn:
        await conn.execute(text("UPDATE github_webhook_deliveries SET received_at = now() - interval '2 days'"))
    again = await app_client.post(URL, content=body, headers=headers(body, "ping"))
    assert again.json()["outcome"] == "pong"


async def test_pruning_keeps_replay_protection_inside_the_window(
    app_client: httpx.AsyncClient, pg_admin: Any, database: Any, pg_settings: Settings
) -> None:
    kept_delivery = str(uuid.uuid4())
    kept = json.dumps({"zen": "Approachable is better than simple.", "hook_id": 7}).encode()
    old = json.dumps({"zen": "Mind your words, they are important.", "hook_id": 7}).encode()
    assert (await app_client.post(URL, content=kept, headers=headers(kept, "ping", delivery=kept_delivery))).is_success
    assert (await app_client.post(URL, content=old, headers=headers(old, "ping"))).is_success
    async with pg_admin.begin() as conn:
        await conn.execute(
            text(
                "UPDATE github_webhook_deliveries SET received_at = now() - CASE WHEN body_sha256 = :kept "
                "THEN interval '6 hours' ELSE interval '8 days' END"
            ),
            {"kept": hashlib.sha256(kept).hexdigest()},
        )
    # The shortest retention allowed, 7 days, still longer than the replay window (1 day).
    settings = pg_settings.model_copy(update={"webhook_delivery_retention_days": 7})
    assert (await prune_webhook_deliveries(database, settings)).deleted["github"] == 1
    async with pg_admin.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM github_webhook_deliveries")) == 1
    # The kept delivery is refused by its id and, under a new id, by its body.
    by_id = await app_client.post(URL, content=kept, headers=headers(kept, "ping", delivery=kept_delivery))
    assert by_id.json()["outcome"] == "duplicate"
    by_body = await app_client.post(URL, content=kept, headers=headers(kept, "ping"))
    assert by_body.json()["outcome"] == "duplicate"


def test_retention_is_never_shorter_than_the_replay_window(pg_settings: Settings) -> None:
    week = pg_settings.model_copy(update={"webhook_delivery_retention_days": 7})
    assert retention(week) == timedelta(days=7)
    longer = week.model_copy(update={"github_webhook_replay_window_s": 10 * 86_400})
    assert retention(longer) == timedelta(days=10)
    with pytest.raises(ValidationError):
        Settings(webhook_delivery_retention_days=1)
