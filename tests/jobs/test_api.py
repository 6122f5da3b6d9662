"""The jobs API over the real app: 202 on start, tenant isolation (404), SSE with reconnect, dead letters."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from autodevops.db import tenant_session
from autodevops.models import Repository
from platform_support import add_member

from .conftest import JOBS_SETTINGS, Jobs, Workers, forget_queue

pytestmark = pytest.mark.slow


@pytest.fixture
async def client(make_api_client: Any, runtime: Any) -> httpx.AsyncClient:
    client: httpx.AsyncClient = await make_api_client(**JOBS_SETTINGS)
    return client


async def _repository(jobs: Jobs, tenant: Any) -> uuid.UUID:
    async with tenant_session(jobs.database, user_id=tenant.user_id) as session:
        repository = Repository(
            organization_id=tenant.organization_id,
            name="widgets",
            source="git",
            clone_url="https://140.82.112.3/acme/widgets.git",
        )
        session.add(repository)
        await session.flush()
        return repository.id


def _parse_sse(body: str) -> list[dict[str, Any]]:
    events = []
    for block in body.split("\n\n"):
        fields: dict[str, Any] = {}
        for line in block.splitlines():
            if line.startswith(":") or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        if "event" in fields:
            fields["data"] = json.loads(fields["data"])
            events.append(fields)
    return events


async def test_starting_an_analysis_answers_202_with_the_job_and_queues_it(
    client: httpx.AsyncClient, make_tenant: Any, jobs: Jobs
) -> None:
    alice = await make_tenant(organization="A")
    repository_id = await _repository(jobs, alice)
    response = await client.post(
        f"/api/v1/repositories/{repository_id}/analyses", headers={**alice.headers, "X-Request-ID": "req-abc-123"}
    )
    assert response.status_code == 202, response.text
    body = response.json()
    # The request's correlation id travels with the job (its record, its queued message, the worker's logs).
    assert body["correlation_id"] == "req-abc-123"
    assert (await jobs.runtime.broker.message("analysis", body["id"]) or {})["correlation_id"] == "req-abc-123"
    assert body["state"] == "pending"
    assert body["queue"] == "analysis"
    assert body["name"] == "analysis.run"
    assert body["payload"]["repository_id"] == str(repository_id)
    assert response.headers["location"] == f"/api/v1/jobs/{body['id']}"
    # Queued only after the request's transaction committed.
    assert await jobs.runtime.broker.state("analysis", body["id"]) == "prioritized"  # by plan, docs/jobs.md

    listed = await client.get("/api/v1/jobs", headers=alice.headers)
    assert [j["id"] for j in listed.json()["items"]] == [body["id"]]
    got = await client.get(f"/api/v1/jobs/{body['id']}", headers=alice.headers)
    assert got.json()["id"] == body["id"]

    no_analysis = await client.post(f"/api/v1/repositories/{repository_id}/pipelines", headers=alice.headers)
    assert no_analysis.status_code == 409


async def test_another_tenant_cannot_see_a_job_or_its_events_or_start_work_on_its_repository(
    client: httpx.AsyncClient, make_tenant: Any, jobs: Jobs
) -> None:
    alice = await make_tenant(organization="A")
    mallory = await make_tenant(organization="M")
    repository_id = await _repository(jobs, alice)
    started = await client.post(f"/api/v1/repositories/{repository_id}/analyses", headers=alice.headers)
    job_id = started.json()["id"]

    for method, path in (
        ("GET", f"/api/v1/jobs/{job_id}"),
        ("GET", f"/api/v1/jobs/{job_id}/events"),
        ("POST", f"/api/v1/jobs/{job_id}/requeue"),
        ("DELETE", f"/api/v1/jobs/{job_id}"),
        ("POST", f"/api/v1/repositories/{repository_id}/analyses"),
        ("POST", f"/api/v1/repositories/{repository_id}/pipelines"),
        ("GET", f"/api/v1/organizations/{alice.organization_id}/dead-letters"),
    ):
        response = await client.request(method, path, headers=mallory.headers)
        assert response.status_code == 404, (method, path, response.text)
    assert (await client.get("/api/v1/jobs", headers=mallory.headers)).json()["items"] == []
    assert (await client.get(f"/api/v1/jobs/{job_id}/events")).status_code == 401


async def test_sse_delivers_ordered_events_closes_at_the_end_and_resumes_after_last_event_id(
    client: httpx.AsyncClient, make_tenant: Any, jobs: Jobs, workers: Workers
) -> None:
    alice = await make_tenant(organization="A")
    jobs.org = alice.organization_id
    job_id = await jobs.enqueue("testing.record", "analysis", {"sleep_s": 0.3})
    workers.start("analysis")

    response = await client.get(f"/api/v1/jobs/{job_id}/events", headers=alice.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _parse_sse(response.text)
    assert [e["event"] for e in events] == ["queued", "active", "analyzing", "storing", "done"]
    assert [e["data"]["percent"] for e in events if "percent" in e["data"]] == [0, 10, 90, 100]
    ids = [e["id"] for e in events]
    assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))

    resumed = await client.get(
        f"/api/v1/jobs/{job_id}/events", headers={**alice.headers, "Last-Event-ID": events[1]["id"]}
    )
    assert [e["event"] for e in _parse_sse(resumed.text)] == ["analyzing", "storing", "done"]


async def test_dead_letters_are_listed_requeued_and_purged_by_admins(
    client: httpx.AsyncClient, make_tenant: Any, jobs: Jobs, workers: Workers
) -> None:
    alice = await make_tenant(organization="A")
    jobs.org = alice.organization_id
    workers.start("analysis")
    doomed = await jobs.enqueue("testing.fail_until_switched", "analysis", max_attempts=1)
    fixable = await jobs.enqueue("testing.fail_until_switched", "analysis", max_attempts=1)
    await jobs.wait_state(doomed, "dead_letter")
    await jobs.wait_state(fixable, "dead_letter")

    dlq = f"/api/v1/organizations/{alice.organization_id}/dead-letters"
    listed = (await client.get(dlq, headers=alice.headers)).json()["items"]
    assert {j["id"] for j in listed} == {str(doomed), str(fixable)}
    assert {j["last_error"] for j in listed} == {"RuntimeError: boom on attempt 1"}

    # Inspect: the job resource carries the error, attempts and payload.
    detail = (await client.get(f"/api/v1/jobs/{fixable}", headers=alice.headers)).json()
    assert (detail["state"], detail["attempts"], detail["max_attempts"]) == ("dead_letter", 1, 1)

    await jobs.switch_on(fixable)
    requeued = await client.post(f"/api/v1/jobs/{fixable}/requeue", headers=alice.headers)
    assert requeued.status_code == 202
    assert requeued.json()["state"] == "pending"
    assert (await jobs.wait_state(fixable, "completed")).attempts == 1

    assert (await client.delete(f"/api/v1/jobs/{doomed}", headers=alice.headers)).status_code == 204
    assert (await client.get(dlq, headers=alice.headers)).json()["items"] == []
    assert (await client.get(f"/api/v1/jobs/{doomed}", headers=alice.headers)).status_code == 404
    # Only dead letters can be requeued or deleted.
    assert (await client.delete(f"/api/v1/jobs/{fixable}", headers=alice.headers)).status_code == 404


async def test_a_plain_member_sees_jobs_but_cannot_manage_dead_letters(
    client: httpx.AsyncClient, make_tenant: Any, jobs: Jobs, workers: Workers
) -> None:

    alice = await make_tenant(organization="A")
    bob = await make_tenant(organization="B")
    await add_member(jobs.database, alice, bob, "member")
    jobs.org = alice.organization_id
    workers.start("analysis")
    dead = await jobs.enqueue("testing.fail_until_switched", "analysis", max_attempts=1)
    await jobs.wait_state(dead, "dead_letter")

    assert (await client.get(f"/api/v1/jobs/{dead}", headers=bob.headers)).json()["state"] == "dead_letter"
    for method, path in (
        ("GET", f"/api/v1/organizations/{alice.organization_id}/dead-letters"),
        ("POST", f"/api/v1/organizations/{alice.organization_id}/dead-letters/requeue"),
        ("DELETE", f"/api/v1/organizations/{alice.organization_id}/dead-letters"),
        ("POST", f"/api/v1/jobs/{dead}/requeue"),
        ("DELETE", f"/api/v1/jobs/{dead}"),
    ):
        response = await client.request(method, path, headers=bob.headers)
        assert response.status_code == 403, (method, path, response.text)
    assert (await jobs.get(dead)).state == "dead_letter"

    # The owner's bulk requeue and purge.
    requeued = await client.post(
        f"/api/v1/organizations/{alice.organization_id}/dead-letters/requeue", headers=alice.headers
    )
    assert requeued.json() == {"count": 1}
    await jobs.wait_state(dead, "dead_letter")  # still failing: it comes back
    purged = await client.delete(f"/api/v1/organizations/{alice.organization_id}/dead-letters", headers=alice.headers)
    assert purged.json() == {"count": 1}


async def test_sse_for_a_finished_job_whose_events_are_gone_reports_how_it_ended(
    client: httpx.AsyncClient, make_tenant: Any, jobs: Jobs, redis_sync: Any
) -> None:
    alice = await make_tenant(organization="A")
    jobs.org = alice.organization_id
    job_id = await jobs.enqueue("testing.record", "analysis")
    async with jobs.admin.begin() as conn:
        await conn.execute(text("UPDATE jobs SET state = 'dead_letter' WHERE id = :i"), {"i": job_id})
    forget_queue(redis_sync)  # the events expired or Redis was lost

    response = await client.get(
        f"/api/v1/jobs/{job_id}/events", headers={**alice.headers, "Last-Event-ID": "not-an-id"}
    )
    events = _parse_sse(response.text)
    assert [(e["event"], e["data"]["state"]) for e in events] == [("failed", "dead_letter")]


async def test_a_retried_post_with_the_same_idempotency_key_returns_the_first_job(
    client: httpx.AsyncClient, make_tenant: Any, jobs: Jobs
) -> None:
    alice = await make_tenant(organization="A")
    repository_id = await _repository(jobs, alice)
    url = f"/api/v1/repositories/{repository_id}/analyses"
    headers = {**alice.headers, "Idempotency-Key": "retry-7f3a"}

    first = await client.post(url, headers=headers)
    again = await client.post(url, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    async with jobs.admin.connect() as conn:
        analyses = await conn.scalar(text("SELECT count(*) FROM analyses"))
        assert analyses == 1
        assert await conn.scalar(text("SELECT count(*) FROM jobs")) == 1

    # The same key for another kind of job is another request: refused, nothing created.
    other = await client.post(f"/api/v1/repositories/{repository_id}/sync", headers=headers)
    assert other.status_code == 409
    assert other.json()["error"] == "conflict"
    # Without a key, every POST is a new job.
    assert (await client.post(url, headers=alice.headers)).json()["id"] != first.json()["id"]
    # A malformed key is refused at the edge.
    bad = await client.post(url, headers={**alice.headers, "Idempotency-Key": "has space"})
    assert bad.status_code == 422
