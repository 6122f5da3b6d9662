"""Tenant isolation: another organization's objects are invisible (404 / empty) through the API, and
PostgreSQL enforces the same for the app role even when a query forgets to filter."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from autodevops.db import Database, tenant_session
from autodevops.models import AIReviewRecord

# ---- through the API ---------------------------------------------------------------------------------------

# (entity, how to reach its collection, how to reach one item, body of an update or None)
ENTITIES: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("organization", "/api/v1/organizations", "/api/v1/organizations/{org}", {"name": "Renamed"}),
    ("member", "/api/v1/organizations/{org}/members", "/api/v1/organizations/{org}/members/{user}", {"role": "owner"}),
    ("repository", "/api/v1/repositories", "/api/v1/repositories/{repo}", {"default_branch": "develop"}),
    ("analysis", "/api/v1/analyses", "/api/v1/analyses/{analysis}", None),
]


def fill(template: str, seeded: Any) -> str:
    return template.format(
        org=seeded.tenant.organization_id,
        user=seeded.tenant.user_id,
        repo=seeded.repository_id,
        analysis=seeded.analysis_id,
    )


def listed_ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {str(item.get("id", item.get("user_id"))) for item in response.json()["items"]}


@pytest.mark.parametrize(("entity", "collection", "item", "update"), ENTITIES, ids=[e[0] for e in ENTITIES])
async def test_api_isolation_matrix(
    api_client: httpx.AsyncClient, two_tenants: Any, entity: str, collection: str, item: str, update: Any
) -> None:
    a, b = two_tenants
    headers = a.tenant.headers

    # list: own rows present, the other organization's absent
    own_list = await api_client.get(fill(collection, a), headers=headers)
    other_ids = {str(b.tenant.organization_id), str(b.tenant.user_id), str(b.repository_id), str(b.analysis_id)}
    assert listed_ids(own_list), entity
    assert listed_ids(own_list).isdisjoint(other_ids)
    if "{org}" in collection:  # a collection under the other organization does not exist for A
        assert (await api_client.get(fill(collection, b), headers=headers)).status_code == 404

    # get
    assert (await api_client.get(fill(item, a), headers=headers)).status_code == 200
    other_get = await api_client.get(fill(item, b), headers=headers)
    assert other_get.status_code == 404
    assert other_get.json()["error"] == "not_found"

    # update (where the API has one): the other organization's object is a 404 and stays unchanged
    if update is not None:
        before = (await api_client.get(fill(item, b), headers=b.tenant.headers)).json()
        assert (await api_client.patch(fill(item, b), json=update, headers=headers)).status_code == 404
        assert (await api_client.get(fill(item, b), headers=b.tenant.headers)).json() == before
        assert (await api_client.patch(fill(item, a), json=update, headers=headers)).status_code == 200

    # delete (where the API has one): 404 for the other organization's object, which survives
    if entity in ("organization", "repository"):
        assert (await api_client.delete(fill(item, b), headers=headers)).status_code == 404
        assert (await api_client.get(fill(item, b), headers=b.tenant.headers)).status_code == 200


async def test_api_other_org_member_removal_is_404(api_client: httpx.AsyncClient, two_tenants: Any) -> None:
    a, b = two_tenants
    response = await api_client.delete(
        f"/api/v1/organizations/{b.tenant.organization_id}/members/{b.tenant.user_id}", headers=a.tenant.headers
    )
    assert response.status_code == 404
    members = await api_client.get(
        f"/api/v1/organizations/{b.tenant.organization_id}/members", headers=b.tenant.headers
    )
    assert len(members.json()["items"]) == 1


async def test_api_cannot_connect_repository_to_other_org(api_client: httpx.AsyncClient, two_tenants: Any) -> None:
    a, b = two_tenants
    response = await api_client.post(
        "/api/v1/repositories",
        json={"organization_id": str(b.tenant.organization_id), "url": "https://140.82.112.4/x/y.git"},
        headers=a.tenant.headers,
    )
    assert response.status_code == 404
    listing = await api_client.get(
        "/api/v1/repositories", params={"organization_id": str(b.tenant.organization_id)}, headers=a.tenant.headers
    )
    assert listing.json()["items"] == []


async def test_api_other_org_sso_configuration_is_404(api_client: httpx.AsyncClient, two_tenants: Any) -> None:
    a, b = two_tenants
    url = f"/api/v1/organizations/{b.tenant.organization_id}/sso"
    assert (
        await api_client.get(f"/api/v1/organizations/{a.tenant.organization_id}/sso", headers=a.tenant.headers)
    ).status_code == 200
    body = {"slug": "taken", "issuer": "https://idp.example", "client_id": "c", "allowed_domains": ["example.com"]}
    for method, kwargs in (("GET", {}), ("PUT", {"json": body}), ("DELETE", {})):
        response = await api_client.request(method, url, headers=a.tenant.headers, **kwargs)
        assert response.status_code == 404, (method, response.text)
    assert (await api_client.get(url, headers=b.tenant.headers)).json()["slug"].startswith("org-")


async def test_api_other_users_token_cannot_be_revoked(api_client: httpx.AsyncClient, two_tenants: Any) -> None:
    a, b = two_tenants
    b_tokens = (await api_client.get("/api/v1/tokens", headers=b.tenant.headers)).json()["items"]
    a_tokens = (await api_client.get("/api/v1/tokens", headers=a.tenant.headers)).json()["items"]
    assert {t["id"] for t in a_tokens}.isdisjoint({t["id"] for t in b_tokens})
    response = await api_client.delete(f"/api/v1/tokens/{b_tokens[0]['id']}", headers=a.tenant.headers)
    assert response.status_code == 404
    assert (await api_client.get("/api/v1/users/me", headers=b.tenant.headers)).status_code == 200


async def test_api_other_orgs_results_are_404(
    api_client: httpx.AsyncClient, two_tenants: Any, database: Database
) -> None:
    """Pipelines (latest, by id, history, archives) and the AI layer's state and reviews of another
    organization are 404, while the owner reads each of them."""
    a, b = two_tenants
    async with tenant_session(database, user_id=b.tenant.user_id) as session:
        session.add(
            AIReviewRecord(
                organization_id=b.tenant.organization_id,
                analysis_id=b.analysis_id,
                status="rules_only",
                reason="not-configured",
                prompt_version="review-v1",
            )
        )
    urls = [
        "/api/v1/repositories/{repo}/pipeline",
        "/api/v1/repositories/{repo}/pipeline/download",
        "/api/v1/repositories/{repo}/pipelines",
        "/api/v1/pipelines/{pipeline}",
        "/api/v1/pipelines/{pipeline}?compare=true",
        "/api/v1/pipelines/{pipeline}/download",
        "/api/v1/organizations/{org}/ai",
        "/api/v1/organizations/{org}/usage",
        "/api/v1/analyses/{analysis}/ai-review",
    ]
    for template in urls:
        url = template.format(
            repo=b.repository_id, pipeline=b.pipeline_id, org=b.tenant.organization_id, analysis=b.analysis_id
        )
        assert (await api_client.get(url, headers=b.tenant.headers)).status_code == 200, url
        other = await api_client.get(url, headers=a.tenant.headers)
        assert other.status_code == 404, url
        assert other.json()["error"] == "not_found"
    own = await api_client.get(f"/api/v1/repositories/{a.repository_id}/pipelines", headers=a.tenant.headers)
    assert [item["id"] for item in own.json()["items"]] == [str(a.pipeline_id)]


# ---- directly in SQL, as the app role ------------------------------------------------------------------------

TENANT_TABLES = [
    "repositories",
    "analyses",
    "pipelines",
    "jobs",
    "organization_members",
    "audit_events",
    "sso_connections",
    "sso_identities",
    "organization_invitations",
    "gitlab_connections",
    "gitlab_merge_requests",
]


def row_id(seeded: Any, table: str) -> uuid.UUID | None:
    return {
        "repositories": seeded.repository_id,
        "analyses": seeded.analysis_id,
        "pipelines": seeded.pipeline_id,
        "jobs": seeded.job_id,
    }.get(table)


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_sql_reads_and_writes_see_only_own_organization(database: Database, two_tenants: Any, table: str) -> None:
    a, b = two_tenants
    b_org = {"org": b.tenant.organization_id}
    async with tenant_session(database, user_id=a.tenant.user_id) as session:
        # A query that forgets to filter still only returns A's rows.
        orgs = set((await session.scalars(text(f"SELECT DISTINCT organization_id FROM {table}"))).all())
        # (A's own user-level audit events have no organization.)
        assert orgs - {None} == {a.tenant.organization_id}
        if table == "audit_events":  # B's user-level events (token created) stay B's
            assert (
                await session.scalar(
                    text("SELECT count(*) FROM audit_events WHERE organization_id IS NULL AND user_id = :u"),
                    {"u": b.tenant.user_id},
                )
            ) == 0
        where_b = f"FROM {table} WHERE organization_id = :org"
        assert (await session.scalar(text(f"SELECT count(*) {where_b}"), b_org)) == 0
        set_clause = (
            "created_at = now()"
            if table in ("organization_members", "audit_events", "gitlab_connections")
            else "id = id"
        )
        updated = await session.execute(text(f"UPDATE {table} SET {set_clause} WHERE organization_id = :org"), b_org)
        assert updated.rowcount == 0  # type: ignore[attr-defined]
        deleted = await session.execute(text(f"DELETE {where_b}"), b_org)
        assert deleted.rowcount == 0  # type: ignore[attr-defined]
    async with tenant_session(database, user_id=b.tenant.user_id) as session:
        assert (await session.scalar(text(f"SELECT count(*) FROM {table}"))) >= 1


FORGED_INSERTS = {
    "repositories": "INSERT INTO repositories (id, organization_id, name, source, clone_url) "
    "VALUES (gen_random_uuid(), :org, 'x', 'git', 'https://140.82.112.3/x')",
    "analyses": "INSERT INTO analyses (id, organization_id, repository_id, status) "
    "VALUES (gen_random_uuid(), :org, :repo, 'pending')",
    "pipelines": "INSERT INTO pipelines (id, organization_id, repository_id, files) "
    "VALUES (gen_random_uuid(), :org, :repo, '[]')",
    "jobs": "INSERT INTO jobs (id, organization_id, queue, name) VALUES (gen_random_uuid(), :org, 'q', 'x.y')",
    "organization_members": "INSERT INTO organization_members (id, organization_id, user_id, role) "
    "VALUES (gen_random_uuid(), :org, :user, 'owner')",
    "audit_events": "INSERT INTO audit_events (id, organization_id, user_id, action) "
    "VALUES (gen_random_uuid(), :org, :user, 'forged')",
    "sso_connections": "INSERT INTO sso_connections (id, organization_id, slug, issuer, client_id, client_secret_enc, "
    "allowed_domains, jit_provisioning, default_role) VALUES (gen_random_uuid(), :org, 'forged', "
    "'https://idp.example', 'c', 's', ARRAY['example.com'], true, 'admin')",
    "organization_invitations": "INSERT INTO organization_invitations (id, organization_id, organization_name, "
    "email, role, token_hash, expires_at) VALUES (gen_random_uuid(), :org, 'forged', 'x@example.com', 'owner', "
    "'forged', now() + interval '1 day')",
    "gitlab_connections": "INSERT INTO gitlab_connections (repository_id, organization_id, instance_url, project_id, "
    "full_path, token_enc) VALUES (:repo, :org, 'https://gitlab.com', 7, 'x/y', 'forged')",
    "gitlab_merge_requests": "INSERT INTO gitlab_merge_requests (id, organization_id, repository_id, iid, url, "
    "source_branch, head_sha) VALUES (gen_random_uuid(), :org, :repo, 9, 'https://x', 'autodevops/ci', 'c')",
    "sso_identities": "INSERT INTO sso_identities (id, organization_id, user_id, issuer, subject, email) "
    "VALUES (gen_random_uuid(), :org, :user, 'https://idp.example', 'forged', 'x@example.com')",
}


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_sql_insert_with_forged_organization_fails_with_check(
    database: Database, two_tenants: Any, table: str
) -> None:
    a, b = two_tenants
    params = {"org": b.tenant.organization_id, "repo": b.repository_id, "user": a.tenant.user_id}
    with pytest.raises(DBAPIError, match="row-level security"):
        async with tenant_session(database, user_id=a.tenant.user_id) as session:
            await session.execute(text(FORGED_INSERTS[table]), params)


async def test_sql_cannot_move_a_row_into_another_organization(database: Database, two_tenants: Any) -> None:
    a, b = two_tenants
    with pytest.raises(DBAPIError, match="row-level security"):
        async with tenant_session(database, user_id=a.tenant.user_id) as session:
            await session.execute(
                text("UPDATE repositories SET organization_id = :b WHERE id = :id"),
                {"b": b.tenant.organization_id, "id": a.repository_id},
            )


async def test_sql_unbound_session_sees_no_tenant_rows(database: Database, two_tenants: Any) -> None:
    async with tenant_session(database) as session:
        for table in [*TENANT_TABLES, "organizations", "api_tokens"]:
            assert (await session.scalar(text(f"SELECT count(*) FROM {table}"))) == 0, table


async def test_sql_organization_context_sees_exactly_that_organization(database: Database, two_tenants: Any) -> None:
    a, b = two_tenants
    async with tenant_session(database, organization_id=b.tenant.organization_id) as session:
        orgs = set((await session.scalars(text("SELECT organization_id FROM repositories"))).all())
        assert orgs == {b.tenant.organization_id}
        assert (await session.scalar(text("SELECT count(*) FROM api_tokens"))) == 0
        # It can write for that organization (a job recording its outcome) ...
        await session.execute(text("UPDATE jobs SET state = 'active' WHERE id = :id"), {"id": b.job_id})
    # ... and nothing else.
    with pytest.raises(DBAPIError, match="row-level security"):
        async with tenant_session(database, organization_id=b.tenant.organization_id) as session:
            await session.execute(text(FORGED_INSERTS["jobs"]), {"org": a.tenant.organization_id})


async def test_sql_user_and_organization_contexts_see_the_union_once(database: Database, two_tenants: Any) -> None:
    a, b = two_tenants
    visible = text("SELECT app_organization_ids()")
    async with tenant_session(database, user_id=a.tenant.user_id, organization_id=b.tenant.organization_id) as session:
        assert sorted(await session.scalar(visible)) == sorted([a.tenant.organization_id, b.tenant.organization_id])
        orgs = set((await session.scalars(text("SELECT organization_id FROM repositories"))).all())
        assert orgs == {a.tenant.organization_id, b.tenant.organization_id}
    # The user's own organization as the background one too: listed once.
    async with tenant_session(database, user_id=a.tenant.user_id, organization_id=a.tenant.organization_id) as session:
        assert await session.scalar(visible) == [a.tenant.organization_id]


async def test_sql_cannot_join_another_organization_as_first_owner(database: Database, two_tenants: Any) -> None:
    # The bootstrap policy only lets a creator become owner of an organization that has no member yet.
    a, b = two_tenants
    with pytest.raises(DBAPIError, match="row-level security"):
        async with tenant_session(database, user_id=a.tenant.user_id) as session:
            await session.execute(
                text(FORGED_INSERTS["organization_members"]),
                {"org": b.tenant.organization_id, "user": a.tenant.user_id},
            )
