"""Joining an organization by invitation: nobody is added without accepting, and inviting says nothing about
whether an address has an account."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from autodevops.db import Database, tenant_session
from platform_support import add_member


def invitations_url(tenant: Any) -> str:
    return f"/api/v1/organizations/{tenant.organization_id}/invitations"


def token_of(created: httpx.Response) -> str:
    return parse_qs(urlsplit(created.json()["accept_url"]).query)["token"][0]


async def test_members_can_no_longer_be_added_without_consent(api_client: httpx.AsyncClient, make_tenant: Any) -> None:
    # The assessment: any owner or admin added any existing user (even as owner) by email.
    owner, victim = await make_tenant(), await make_tenant()
    response = await api_client.post(
        f"/api/v1/organizations/{owner.organization_id}/members",
        json={"email": victim.user.email, "role": "owner"},
        headers=owner.headers,
    )
    assert response.status_code == 405
    orgs = (await api_client.get("/api/v1/organizations", headers=victim.headers)).json()["items"]
    assert [o["id"] for o in orgs] == [str(victim.organization_id)]


async def test_inviting_answers_the_same_whether_or_not_the_address_has_an_account(
    api_client: httpx.AsyncClient, make_tenant: Any
) -> None:
    # The assessment: "user not found" versus 201 told whether an address had an account.
    owner, registered = await make_tenant(), await make_tenant()
    answers = []
    for email in (registered.user.email, "nobody-here@example.com"):
        response = await api_client.post(invitations_url(owner), json={"email": email}, headers=owner.headers)
        answers.append(response)
    assert [r.status_code for r in answers] == [201, 201]
    shapes = [
        {k: v for k, v in r.json().items() if k not in ("id", "email", "created_at", "expires_at", "accept_url")}
        for r in answers
    ]
    assert (
        shapes[0]
        == shapes[1]
        == {
            "organization_id": str(owner.organization_id),
            "organization_name": "Acme",
            "role": "member",
        }
    )
    assert {r.headers.get("content-length") is not None for r in answers} == {True}
    pending = (await api_client.get(invitations_url(owner), headers=owner.headers)).json()
    assert sorted(i["email"] for i in pending) == sorted(["nobody-here@example.com", registered.user.email])


async def test_inviting_a_member_answers_as_for_a_stranger_and_changes_no_role(
    api_client: httpx.AsyncClient, make_tenant: Any, database: Database
) -> None:
    # Whether an address already belongs to the organization is not told by inviting it, and an invitation to
    # a lower role cannot demote (nor one to a higher role promote) someone who is already a member.
    owner, admin = await make_tenant(), await make_tenant()
    await add_member(database, owner, admin, "admin")
    answers = [
        await api_client.post(invitations_url(owner), json={"email": email}, headers=admin.headers)
        for email in (owner.user.email, "stranger@example.com")
    ]
    assert [r.status_code for r in answers] == [201, 201]
    assert sorted(answers[0].json()) == sorted(answers[1].json())
    assert [r.json()["role"] for r in answers] == ["member", "member"]
    accepted = await api_client.post(
        "/api/v1/invitations/accept", json={"token": token_of(answers[0])}, headers=owner.headers
    )
    assert accepted.status_code == 200
    assert accepted.json()["role"] == "owner"
    members = (
        await api_client.get(f"/api/v1/organizations/{owner.organization_id}/members", headers=owner.headers)
    ).json()
    assert {m["user_id"]: m["role"] for m in members["items"]} == {
        str(owner.user_id): "owner",
        str(admin.user_id): "admin",
    }


async def test_the_invitee_accepts_in_the_dashboard_list_and_joins_with_the_invited_role(
    api_client: httpx.AsyncClient, make_tenant: Any
) -> None:
    owner, invitee, other = await make_tenant(), await make_tenant(), await make_tenant()
    created = await api_client.post(
        invitations_url(owner), json={"email": invitee.user.email.upper(), "role": "admin"}, headers=owner.headers
    )
    assert created.json()["email"] == invitee.user.email  # normalized
    # Not a member before accepting.
    assert (
        await api_client.get(f"/api/v1/organizations/{owner.organization_id}", headers=invitee.headers)
    ).status_code == 404
    mine = (await api_client.get("/api/v1/invitations", headers=invitee.headers)).json()
    assert [(i["organization_name"], i["role"]) for i in mine] == [("Acme", "admin")]
    assert (await api_client.get("/api/v1/invitations", headers=other.headers)).json() == []
    # Someone else cannot accept it, neither by id nor with the link.
    invitation_id = mine[0]["id"]
    assert (
        await api_client.post(f"/api/v1/invitations/{invitation_id}/accept", headers=other.headers)
    ).status_code == 404
    stolen = await api_client.post(
        "/api/v1/invitations/accept", json={"token": token_of(created)}, headers=other.headers
    )
    assert stolen.status_code == 404
    joined = await api_client.post(f"/api/v1/invitations/{invitation_id}/accept", headers=invitee.headers)
    assert joined.status_code == 200
    assert (joined.json()["id"], joined.json()["role"]) == (str(owner.organization_id), "admin")
    # Accepted once: neither the list nor the link offers it again.
    assert (await api_client.get("/api/v1/invitations", headers=invitee.headers)).json() == []
    again = await api_client.post(
        "/api/v1/invitations/accept", json={"token": token_of(created)}, headers=invitee.headers
    )
    assert again.status_code == 404
    events = (
        await api_client.get(f"/api/v1/organizations/{owner.organization_id}/audit-events", headers=owner.headers)
    ).json()["items"]
    assert [e["action"] for e in events][:2] == ["member.joined", "member.invited"]


async def test_the_link_joins_its_addressee(api_client: httpx.AsyncClient, make_tenant: Any) -> None:
    owner, invitee = await make_tenant(), await make_tenant()
    created = await api_client.post(invitations_url(owner), json={"email": invitee.user.email}, headers=owner.headers)
    joined = await api_client.post(
        "/api/v1/invitations/accept", json={"token": token_of(created)}, headers=invitee.headers
    )
    assert (joined.status_code, joined.json()["role"]) == (200, "member")
    malformed = await api_client.post("/api/v1/invitations/accept", json={"token": "x"}, headers=invitee.headers)
    assert malformed.status_code == 422


async def test_only_owners_invite_owners_and_members_do_not_invite(
    api_client: httpx.AsyncClient, make_tenant: Any, database: Database
) -> None:

    owner, admin, member = await make_tenant(), await make_tenant(), await make_tenant()
    for tenant, role in ((admin, "admin"), (member, "member")):
        await add_member(database, owner, tenant, role)
    body = {"email": "new@example.com", "role": "owner"}
    assert (await api_client.post(invitations_url(owner), json=body, headers=admin.headers)).status_code == 403
    assert (
        await api_client.post(invitations_url(owner), json=body | {"role": "member"}, headers=member.headers)
    ).status_code == 403
    assert (await api_client.post(invitations_url(owner), json=body, headers=owner.headers)).status_code == 201
    assert (await api_client.get(invitations_url(owner), headers=member.headers)).status_code == 403


async def test_revoked_and_expired_invitations_cannot_be_accepted(
    api_client: httpx.AsyncClient, make_tenant: Any, pg_admin: AsyncEngine
) -> None:
    owner, invitee = await make_tenant(), await make_tenant()
    first = await api_client.post(invitations_url(owner), json={"email": invitee.user.email}, headers=owner.headers)
    revoked = await api_client.delete(f"{invitations_url(owner)}/{first.json()['id']}", headers=owner.headers)
    assert revoked.status_code == 204
    refused = await api_client.post(
        "/api/v1/invitations/accept", json={"token": token_of(first)}, headers=invitee.headers
    )
    assert refused.status_code == 404
    second = await api_client.post(invitations_url(owner), json={"email": invitee.user.email}, headers=owner.headers)
    async with pg_admin.begin() as connection:
        await connection.execute(text("UPDATE organization_invitations SET expires_at = now() - interval '1 second'"))
    expired = await api_client.post(
        "/api/v1/invitations/accept", json={"token": token_of(second)}, headers=invitee.headers
    )
    assert expired.status_code == 404
    assert (
        await api_client.get(f"/api/v1/organizations/{owner.organization_id}", headers=invitee.headers)
    ).status_code == 404


async def test_an_invitee_reads_their_invitation_but_cannot_change_it_or_join_by_sql(
    api_client: httpx.AsyncClient, make_tenant: Any, database: Database
) -> None:
    from sqlalchemy.exc import DBAPIError

    owner, invitee = await make_tenant(), await make_tenant()
    await api_client.post(invitations_url(owner), json={"email": invitee.user.email}, headers=owner.headers)
    async with tenant_session(database, user_id=invitee.user_id) as session:
        rows = (await session.execute(text("SELECT organization_id, role FROM organization_invitations"))).all()
        assert [(r.organization_id, r.role) for r in rows] == [(owner.organization_id, "member")]
        changed = await session.execute(text("UPDATE organization_invitations SET role = 'owner'"))
        assert changed.rowcount == 0  # type: ignore[attr-defined]
    with pytest.raises(DBAPIError, match="row-level security"):
        async with tenant_session(database, user_id=invitee.user_id) as session:
            await session.execute(
                text(
                    "INSERT INTO organization_members (id, organization_id, user_id, role) "
                    "VALUES (gen_random_uuid(), :org, :me, 'owner')"
                ),
                {"org": owner.organization_id, "me": invitee.user_id},
            )
