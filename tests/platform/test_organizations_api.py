"""Organizations and members: roles decide who manages; an organization always keeps an owner."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from autodevops.db import Database, tenant_session
from autodevops.errors import Conflict
from autodevops.models import OrganizationMember
from autodevops.organization import service as organization_service
from platform_support import add_member


async def add(client: httpx.AsyncClient, owner: Any, member: Any, role: str) -> httpx.Response:
    """`owner` invites `member` with `role` and, when that worked, `member` accepts by the link."""
    invited = await client.post(
        f"/api/v1/organizations/{owner.organization_id}/invitations",
        json={"email": member.user.email.upper(), "role": role},
        headers=owner.headers,
    )
    if invited.status_code == 201:
        token = parse_qs(urlsplit(invited.json()["accept_url"]).query)["token"][0]
        accepted = await client.post("/api/v1/invitations/accept", json={"token": token}, headers=member.headers)
        assert accepted.status_code == 200, accepted.text
    return invited


async def test_create_list_get_rename_delete(
    api_client: httpx.AsyncClient, make_tenant: Any, pg_admin: AsyncEngine
) -> None:
    tenant = await make_tenant()
    created = await api_client.post("/api/v1/organizations", json={"name": "  Widgets Inc  "}, headers=tenant.headers)
    assert created.status_code == 201
    org = created.json()
    assert org["name"] == "Widgets Inc"
    assert org["role"] == "owner"

    names = [o["name"] for o in (await api_client.get("/api/v1/organizations", headers=tenant.headers)).json()["items"]]
    assert names == ["Acme", "Widgets Inc"]

    renamed = await api_client.patch(
        f"/api/v1/organizations/{org['id']}", json={"name": "Gadgets"}, headers=tenant.headers
    )
    assert renamed.json()["name"] == "Gadgets"

    repo = await api_client.post(
        "/api/v1/repositories",
        json={"organization_id": org["id"], "url": "https://140.82.112.3/g/g.git"},
        headers=tenant.headers,
    )
    assert repo.status_code == 201
    assert (await api_client.delete(f"/api/v1/organizations/{org['id']}", headers=tenant.headers)).status_code == 204
    assert (await api_client.get(f"/api/v1/organizations/{org['id']}", headers=tenant.headers)).status_code == 404
    async with pg_admin.connect() as connection:  # its repositories went with it; the audit trail stays
        assert (
            await connection.scalar(
                text("SELECT count(*) FROM repositories WHERE organization_id = :o"), {"o": org["id"]}
            )
            == 0
        )
        actions = (
            await connection.scalars(
                text("SELECT action FROM audit_events WHERE organization_id = :o ORDER BY created_at"), {"o": org["id"]}
            )
        ).all()
    assert actions == ["organization.created", "organization.renamed", "repository.connected", "organization.deleted"]


async def test_members_roles_and_permissions(api_client: httpx.AsyncClient, make_tenant: Any) -> None:
    owner, admin, member, outsider = [await make_tenant() for _ in range(4)]
    members_url = f"/api/v1/organizations/{owner.organization_id}/members"
    assert (await add(api_client, owner, admin, "admin")).status_code == 201
    assert (await add(api_client, owner, member, "member")).status_code == 201

    listing = (await api_client.get(members_url, headers=member.headers)).json()["items"]
    assert [(m["email"], m["role"]) for m in listing] == [
        (owner.user.email, "owner"),
        (admin.user.email, "admin"),
        (member.user.email, "member"),
    ]

    # A plain member reads but does not manage.
    assert (
        await api_client.get(f"/api/v1/organizations/{owner.organization_id}", headers=member.headers)
    ).status_code == 200
    assert (await add(api_client, _as(owner, member), outsider, "member")).status_code == 403
    rename = await api_client.patch(
        f"/api/v1/organizations/{owner.organization_id}", json={"name": "X"}, headers=member.headers
    )
    assert rename.status_code == 403
    # Admins manage members but not owners.
    assert (await add(api_client, _as(owner, admin), outsider, "owner")).status_code == 403
    assert (await add(api_client, _as(owner, admin), outsider, "member")).status_code == 201
    to_owner = await api_client.patch(f"{members_url}/{member.user_id}", json={"role": "owner"}, headers=admin.headers)
    assert to_owner.status_code == 403
    assert (await api_client.delete(f"{members_url}/{owner.user_id}", headers=admin.headers)).status_code == 403
    # Only owners delete the organization.
    assert (
        await api_client.delete(f"/api/v1/organizations/{owner.organization_id}", headers=admin.headers)
    ).status_code == 403


def _as(owner: Any, actor: Any) -> Any:
    """`actor` acting on `owner`'s organization."""

    class Acting:
        organization_id = owner.organization_id
        headers = actor.headers

    return Acting()


async def test_last_owner_cannot_leave_or_be_demoted(api_client: httpx.AsyncClient, make_tenant: Any) -> None:
    owner, other = await make_tenant(), await make_tenant()
    members_url = f"/api/v1/organizations/{owner.organization_id}/members"
    assert (await api_client.delete(f"{members_url}/{owner.user_id}", headers=owner.headers)).status_code == 409
    demote = await api_client.patch(f"{members_url}/{owner.user_id}", json={"role": "admin"}, headers=owner.headers)
    assert demote.status_code == 409
    # With a second owner, the first may step down, then leave.
    assert (await add(api_client, owner, other, "owner")).status_code == 201
    demote = await api_client.patch(f"{members_url}/{owner.user_id}", json={"role": "member"}, headers=owner.headers)
    assert demote.status_code == 200
    assert (await api_client.delete(f"{members_url}/{owner.user_id}", headers=owner.headers)).status_code == 204
    # Gone: the organization is now invisible to them.
    assert (
        await api_client.get(f"/api/v1/organizations/{owner.organization_id}", headers=owner.headers)
    ).status_code == 404
    assert (await api_client.get(members_url, headers=other.headers)).json()["items"][0]["role"] == "owner"


async def test_member_can_read_but_not_connect_repositories(api_client: httpx.AsyncClient, make_tenant: Any) -> None:
    owner, member = await make_tenant(), await make_tenant()
    await add(api_client, owner, member, "member")
    body = {"organization_id": str(owner.organization_id), "url": "https://140.82.112.3/a/b"}
    assert (await api_client.post("/api/v1/repositories", json=body, headers=member.headers)).status_code == 403
    repo = (await api_client.post("/api/v1/repositories", json=body, headers=owner.headers)).json()
    assert (await api_client.get(f"/api/v1/repositories/{repo['id']}", headers=member.headers)).status_code == 200
    assert (await api_client.delete(f"/api/v1/repositories/{repo['id']}", headers=member.headers)).status_code == 403
    assert (await api_client.delete(f"/api/v1/repositories/{repo['id']}", headers=owner.headers)).status_code == 204
    assert (await api_client.get(f"/api/v1/repositories/{repo['id']}", headers=owner.headers)).status_code == 404


async def test_repository_list_is_paginated_and_filterable(api_client: httpx.AsyncClient, make_tenant: Any) -> None:
    tenant = await make_tenant()
    second = (await api_client.post("/api/v1/organizations", json={"name": "Second"}, headers=tenant.headers)).json()
    for i in range(3):
        for org in (str(tenant.organization_id), second["id"]):
            body = {"organization_id": org, "url": f"https://140.82.112.3/o/r{i}.git"}
            assert (await api_client.post("/api/v1/repositories", json=body, headers=tenant.headers)).status_code == 201
    everything = (await api_client.get("/api/v1/repositories", headers=tenant.headers)).json()
    assert len(everything["items"]) == 6
    page = (await api_client.get("/api/v1/repositories", params={"limit": 4}, headers=tenant.headers)).json()
    assert (len(page["items"]), page["next_offset"]) == (4, 4)
    only_second = (
        await api_client.get("/api/v1/repositories", params={"organization_id": second["id"]}, headers=tenant.headers)
    ).json()["items"]
    assert {r["organization_id"] for r in only_second} == {second["id"]}
    assert len(only_second) == 3


async def test_audit_trail_is_for_managers_of_the_organization(api_client: httpx.AsyncClient, make_tenant: Any) -> None:
    owner, member, outsider = await make_tenant(), await make_tenant(), await make_tenant()
    await add(api_client, owner, member, "member")
    url = f"/api/v1/organizations/{owner.organization_id}/audit-events"
    events = (await api_client.get(url, headers=owner.headers)).json()["items"]
    assert [e["action"] for e in events] == ["member.joined", "member.invited", "organization.created"]
    assert events[0]["user_id"] == events[0]["target_id"] == str(member.user_id)
    assert events[1]["user_id"] == str(owner.user_id)
    assert events[1]["correlation_id"]  # the request id of the call that invited the member
    assert (await api_client.get(url, headers=member.headers)).status_code == 403
    assert (await api_client.get(url, headers=outsider.headers)).status_code == 404


async def test_two_owners_stepping_down_at_once_leave_one_owner(make_tenant: Any, database: Database) -> None:
    first, second = await make_tenant(), await make_tenant()
    await add_member(database, first, second, "owner")
    first_locked = asyncio.Event()
    release_first = asyncio.Event()

    async def step_down(tenant: Any, hold: bool) -> str:
        try:
            async with tenant_session(database, user_id=tenant.user_id) as session:
                await organization_service.change_role(
                    session, tenant.user, first.organization_id, tenant.user_id, "member"
                )
                if hold:  # keep the transaction open while the other one tries
                    first_locked.set()
                    await release_first.wait()
            return "demoted"
        except Conflict:
            return "refused"

    first_task = asyncio.create_task(step_down(first, hold=True))
    await first_locked.wait()
    second_task = asyncio.create_task(step_down(second, hold=False))
    await asyncio.sleep(0.2)  # let the second reach the owners' row locks (the outcome does not depend on it)
    release_first.set()
    assert await asyncio.gather(first_task, second_task) == ["demoted", "refused"]
    async with tenant_session(database, organization_id=first.organization_id) as session:
        roles = (await session.scalars(select(OrganizationMember.role))).all()
    assert sorted(roles) == ["member", "owner"]
