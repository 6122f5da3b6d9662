"""Signing in through an organization's OpenID provider: the happy path, just-in-time membership, who may
sign in as whom, and every way an ID token or a callback is refused."""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from autodevops.db import Database
from platform_support import MakeTenant

from .conftest import (
    approve_at_idp,
    configure,
    detail,
    forward_url,
    github_session,
    session_claims,
    sso_overrides,
    sso_sign_in,
    start_with_slug,
)
from .fake_idp import FakeIdP, Person


async def audit(pg_admin: AsyncEngine, organization_id: uuid.UUID, action: str) -> list[dict[str, Any]]:
    async with pg_admin.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT user_id, data FROM audit_events WHERE organization_id = :o AND action = :a ORDER BY created_at"
            ),
            {"o": organization_id, "a": action},
        )
        return [{"user_id": row.user_id, **row.data} for row in rows]


async def member_role(pg_admin: AsyncEngine, organization_id: uuid.UUID, email: str) -> str | None:
    async with pg_admin.connect() as connection:
        role: str | None = await connection.scalar(
            text(
                "SELECT m.role FROM organization_members m JOIN users u ON u.id = m.user_id "
                "WHERE m.organization_id = :o AND u.email = :e"
            ),
            {"o": organization_id, "e": email},
        )
        return role


# ---- the happy path ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
async def test_sign_in_creates_the_user_and_membership_just_in_time(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP, pg_admin: AsyncEngine, algorithm: str
) -> None:
    owner = await make_tenant(organization="Acme")
    await configure(sso_client, owner, idp, default_role="admin")
    idp.algorithm = algorithm

    # The sign-in page's form: an email finds the organization by its domain.
    page = await sso_client.post("/auth/sso", data={"identifier": "ada@example.com"})
    assert page.status_code == 200, page.text
    assert "Continue to 127.0.0.1:" in page.text
    authorize = forward_url(page.text)
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["scope"] == ["openid email profile"]
    assert query["login_hint"] == ["ada@example.com"]
    assert query["nonce"][0]
    assert query["state"][0]
    assert "code_verifier" not in query

    done = await sso_client.get(await approve_at_idp(authorize))
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/orgs/{owner.organization_id}/repositories"
    claims = session_claims(sso_client)
    assert claims.sso_organization_id == owner.organization_id

    me = (await sso_client.get("/api/v1/users/me")).json()
    assert me["email"] == "ada@example.com"
    assert me["name"] == "Ada Lovelace"
    assert await member_role(pg_admin, owner.organization_id, "ada@example.com") == "admin"
    org = await sso_client.get(f"/api/v1/organizations/{owner.organization_id}")
    assert org.status_code == 200
    assert org.json()["role"] == "admin"

    signed_in = await audit(pg_admin, owner.organization_id, "sso.signed_in")
    assert signed_in == [
        {
            "user_id": uuid.UUID(me["id"]),
            "email": "ada@example.com",
            "subject": "user-1",
            "created_user": True,
            "linked": False,
            "joined": True,
        }
    ]
    added = await audit(pg_admin, owner.organization_id, "member.added")
    assert added[-1]["via"] == "sso"


async def test_second_sign_in_uses_the_linked_identity(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP, pg_admin: AsyncEngine
) -> None:
    owner = await make_tenant(organization="Acme")
    await configure(sso_client, owner, idp)
    assert (await sso_sign_in(sso_client)).status_code == 303
    first = session_claims(sso_client).user_id
    # The provider now reports another address for the same subject: the link, not the email, decides.
    idp.person = Person("user-1", "ada.lovelace@example.com")
    sso_client.cookies.clear()
    assert (await sso_sign_in(sso_client)).status_code == 303
    assert session_claims(sso_client).user_id == first
    events = await audit(pg_admin, owner.organization_id, "sso.signed_in")
    assert [e["joined"] for e in events] == [True, False]


async def test_without_jit_only_existing_members_sign_in(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP, pg_admin: AsyncEngine
) -> None:
    owner = await make_tenant(organization="Acme")
    await configure(sso_client, owner, idp, jit_provisioning=False)
    refused = await sso_sign_in(sso_client)
    assert refused.status_code == 400
    assert "ask an owner" in detail(refused)
    assert await member_role(pg_admin, owner.organization_id, "ada@example.com") is None
    assert (await audit(pg_admin, owner.organization_id, "sso.sign_in_refused"))[0]["reason"].startswith("you have no")


# ---- who may sign in -----------------------------------------------------------------------------------------
async def test_a_domain_the_owner_did_not_allow_is_refused(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP, pg_admin: AsyncEngine
) -> None:
    owner = await make_tenant(organization="Acme")
    await configure(sso_client, owner, idp)
    idp.person = Person("user-2", "mallory@evil.example")
    refused = await sso_sign_in(sso_client)
    assert refused.status_code == 400
    assert "evil.example addresses may not sign in" in detail(refused)
    assert await member_role(pg_admin, owner.organization_id, "mallory@evil.example") is None
    async with pg_admin.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM users WHERE email = 'mallory@evil.example'")) == 0


@pytest.mark.parametrize("verified", [False, None, "false"])
async def test_an_unverified_email_is_refused(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP, pg_admin: AsyncEngine, verified: Any
) -> None:
    owner = await make_tenant(organization="Acme")
    await configure(sso_client, owner, idp)
    idp.person = Person("user-3", "eve@example.com", email_verified=None)
    if verified is not None:
        idp.claim_overrides["email_verified"] = verified
    refused = await sso_sign_in(sso_client)
    assert refused.status_code == 400
    assert "has not verified eve@example.com" in detail(refused)
    assert await member_role(pg_admin, owner.organization_id, "eve@example.com") is None


async def test_entra_ids_domain_verified_claim_counts_as_verified(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP
) -> None:
    owner = await make_tenant(organization="Acme")
    await configure(sso_client, owner, idp)
    idp.person = Person("entra-oid", "grace@example.com", email_verified=None)
    idp.claim_overrides["xms_edov"] = True
    assert (await sso_sign_in(sso_client)).status_code == 303


async def test_an_email_claim_never_takes_over_an_existing_account(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP, database: Database, pg_admin: AsyncEngine
) -> None:
    # The attack: an organization's owner points single sign-on at a provider they run, allows the victim's
    # domain, and has it assert the victim's address. The victim's account (and organizations) stay theirs.
    victim = await make_tenant(email="ceo@example.com", organization="Victim Co")
    attacker = await make_tenant(organization="Acme")
    await configure(sso_client, attacker, idp)
    idp.person = Person("forged", "ceo@example.com")
    refused = await sso_sign_in(sso_client)
    assert refused.status_code == 400
    assert "already exists" in detail(refused)
    assert "autodevops_session" not in sso_client.cookies
    assert await member_role(pg_admin, attacker.organization_id, "ceo@example.com") is None

    # The victim links the identity themselves: signed in, from the sign-in form with their CSRF token.
    csrf = await github_session(sso_client, database, victim)
    page = await sso_client.post("/auth/sso", data={"identifier": "acme", "csrf_token": csrf})
    assert "signing in with SSO links" not in page.text  # (the forwarding page, not the form)
    done = await sso_client.get(await approve_at_idp(forward_url(page.text)))
    assert done.status_code == 303, done.text
    assert session_claims(sso_client).user_id == victim.user_id
    assert (await audit(pg_admin, attacker.organization_id, "sso.signed_in"))[-1]["linked"] is True


async def test_a_start_without_the_csrf_token_does_not_link(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP, database: Database
) -> None:
    # A cross-site form post rides on the victim's cookie but cannot carry their CSRF token.
    victim = await make_tenant(email="cfo@example.com", organization="Victim Co")
    attacker = await make_tenant(organization="Acme")
    await configure(sso_client, attacker, idp)
    idp.person = Person("attacker-sub", "cfo@example.com")
    await github_session(sso_client, database, victim)
    page = await sso_client.post("/auth/sso", data={"identifier": "acme"})
    refused = await sso_client.get(await approve_at_idp(forward_url(page.text)))
    assert refused.status_code == 400
    assert "already exists" in detail(refused)


async def test_the_sign_in_page_finds_organizations(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP
) -> None:
    owner = await make_tenant(organization="Acme")
    await configure(sso_client, owner, idp)
    page = await sso_client.get("/auth/sso", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "Work email or organization sign-in name" in page.text
    by_slug = await sso_client.post("/auth/sso", data={"identifier": "ACME"})
    assert by_slug.status_code == 200
    unknown = await sso_client.post(
        "/auth/sso", data={"identifier": "nobody@unknown.example"}, headers={"Accept": "text/html"}
    )
    assert unknown.status_code == 400
    assert "no organization signs in unknown.example addresses" in detail(unknown)

    other = await make_tenant(organization="Other")
    await configure(sso_client, other, idp, slug="other")
    ambiguous = await sso_client.post("/auth/sso", data={"identifier": "ada@example.com"})
    assert ambiguous.status_code == 400
    assert "enter your organization's sign-in name" in detail(ambiguous)


# ---- the ID token --------------------------------------------------------------------------------------------
TAMPERED = [
    ({"aud": "another-client"}, "aud"),
    ({"iss": "https://evil.example/realms/acme"}, "iss"),
    ({"nonce": "not-the-nonce"}, "nonce"),
    ({"azp": "another-client"}, "azp"),
]


@pytest.mark.parametrize(("overrides", "claim"), TAMPERED, ids=[claim for _, claim in TAMPERED])
async def test_a_token_for_another_audience_issuer_or_sign_in_is_refused(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP, overrides: dict[str, Any], claim: str
) -> None:
    owner = await make_tenant(organization="Acme")
    await configure(sso_client, owner, idp)
    idp.claim_overrides.update(overrides)
    refused = await sso_sign_in(sso_client)
    assert refused.status_code == 400
    assert f"'{claim}'" in detail(refused) or claim in detail(refused)
    assert "autodevops_session" not in sso_client.cookies


async def test_expired_or_stale_tokens_are_refused(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP
) -> None:
    owner = await make_tenant(organization="Acme")
    await configure(sso_client, owner, idp)
    now = int(time.time())
    idp.claim_overrides.update({"exp": now - 120, "iat": now - 420})
    expired = await sso_sign_in(sso_client)
    assert expired.status_code == 400
    assert "expired" in detail(expired)
    idp.claim_overrides.update({"exp": now + 300, "iat": now - 3600})
    stale = await sso_sign_in(sso_client)
    assert "issued too long ago" in detail(stale)
    idp.claim_overrides.update({"iat": now + 3600})
    future = await sso_sign_in(sso_client)
    assert "iat" in detail(future)
    idp.claim_overrides.clear()
    idp.omit_claims.add("nonce")
    missing = await sso_sign_in(sso_client)
    assert "nonce" in detail(missing)


@pytest.mark.parametrize("algorithm", ["none", "HS256"])
async def test_unsigned_and_hmac_tokens_are_refused(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP, algorithm: str
) -> None:
    # The provider even advertises both; HS256 would be keyed by the client secret (an algorithm confusion).
    owner = await make_tenant(organization="Acme")
    await configure(sso_client, owner, idp)
    idp.algorithm = algorithm
    refused = await sso_sign_in(sso_client)
    assert refused.status_code == 400
    assert "signature is not valid" in detail(refused)
    assert "autodevops_session" not in sso_client.cookies


async def test_key_rotation_refetches_the_key_set(
    make_api_client: Any, clean_db: None, make_tenant: MakeTenant, idp: FakeIdP
) -> None:
    client = await make_api_client(**sso_overrides(idp, sso_jwks_min_refresh_s=0))
    owner = await make_tenant(organization="Acme")
    await configure(client, owner, idp)
    assert (await sso_sign_in(client)).status_code == 303
    assert idp.count("/certs") == 1
    assert (await sso_sign_in(client)).status_code == 303
    assert idp.count("/certs") == 1  # cached

    idp.add_key("RS256")  # the provider rotates: a new kid signs from now on
    assert (await sso_sign_in(client)).status_code == 303
    assert idp.count("/certs") == 2
    assert (await sso_sign_in(client)).status_code == 303
    assert idp.count("/certs") == 2  # the new key is cached now
    idp.algorithm = "ES256"  # another published key the cached set holds
    assert (await sso_sign_in(client)).status_code == 303
    assert idp.count("/certs") == 2
    assert idp.count("/openid-configuration") == 1  # fetched when the configuration was saved, cached since


async def test_unknown_key_ids_refetch_at_most_once_per_interval(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP
) -> None:
    owner = await make_tenant(organization="Acme")
    await configure(sso_client, owner, idp)
    assert (await sso_sign_in(sso_client)).status_code == 303
    assert idp.count("/certs") == 1
    # Key ids the provider never published: within the interval the cached set answers, so a flood of
    # made-up kids cannot become a flood of requests to the provider.
    idp.add_key("RS256", publish=False)
    for _ in range(3):
        refused = await sso_sign_in(sso_client)
        assert refused.status_code == 400
        assert "a key the provider does not publish" in detail(refused)
    assert idp.count("/certs") == 1


# ---- the callback --------------------------------------------------------------------------------------------
async def test_state_and_code_are_single_use(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP, pg_admin: AsyncEngine
) -> None:
    owner = await make_tenant(organization="Acme")
    await configure(sso_client, owner, idp)
    callback = await approve_at_idp(await start_with_slug(sso_client))
    assert (await sso_client.get(callback)).status_code == 303
    replayed = await sso_client.get(callback)
    assert replayed.status_code == 400
    assert "already used" in detail(replayed)

    # The same code under a fresh state: the provider accepts a code once.
    fresh = await approve_at_idp(await start_with_slug(sso_client))
    used_code = parse_qs(urlsplit(callback).query)["code"][0]
    fresh_state = parse_qs(urlsplit(fresh).query)["state"][0]
    again = await sso_client.get("/auth/sso/callback", params={"code": used_code, "state": fresh_state})
    assert again.status_code == 502
    assert "refused the sign-in (invalid_grant)" in detail(again)
    reasons = [e["reason"] for e in await audit(pg_admin, owner.organization_id, "sso.sign_in_refused")]
    assert any("invalid_grant" in reason for reason in reasons)


async def test_a_state_from_another_browser_is_refused(
    sso_client: httpx.AsyncClient, make_api_client: Any, make_tenant: MakeTenant, idp: FakeIdP
) -> None:
    owner = await make_tenant(organization="Acme")
    await configure(sso_client, owner, idp)
    callback = await approve_at_idp(await start_with_slug(sso_client))
    sso_client.cookies.clear()  # the attacker's browser, without the victim's binding cookie
    refused = await sso_client.get(callback)
    assert refused.status_code == 400
    assert "does not belong to this browser" in detail(refused)


async def test_provider_errors_are_reported(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP
) -> None:
    owner = await make_tenant(organization="Acme")
    await configure(sso_client, owner, idp)
    authorize = await start_with_slug(sso_client)
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    cancelled = await sso_client.get("/auth/sso/callback", params={"error": "access_denied", "state": state})
    assert cancelled.status_code == 400
    assert "did not sign you in (access_denied)" in detail(cancelled)
