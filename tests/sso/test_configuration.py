"""An organization's single sign-on configuration: owners only, the issuer checked like a git URL, the client
secret encrypted and never returned, every change audited, and the keyring's rotation covering it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from autodevops.crypto import Key, Keyring, key_id_of
from autodevops.db import Database
from autodevops.repository.git_url import GitURLPolicy
from autodevops.sso.provider import CheckedTransport, ProviderError
from autodevops.sso.rotation import rotate_client_secrets, secret_aad
from platform_support import MakeTenant, add_member

from .conftest import configure, connection_body, csrf_of, github_session, link_and_sign_in, sso_overrides
from .fake_idp import CLIENT_SECRET, FakeIdP, Person


async def stored(pg_admin: AsyncEngine) -> Any:
    async with pg_admin.connect() as connection:
        return (await connection.execute(text("SELECT id, client_secret_enc FROM sso_connections"))).one()


async def actions(pg_admin: AsyncEngine) -> list[tuple[str, dict[str, Any]]]:
    async with pg_admin.connect() as connection:
        rows = await connection.execute(
            text("SELECT action, data FROM audit_events WHERE action LIKE 'sso.%' ORDER BY created_at")
        )
        return [(row.action, row.data) for row in rows]


async def test_owner_configures_and_the_secret_is_never_returned(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP, pg_admin: AsyncEngine, database: Database
) -> None:
    owner = await make_tenant(organization="Acme")
    url = f"/api/v1/organizations/{owner.organization_id}/sso"
    assert (await sso_client.get(url, headers=owner.headers)).status_code == 404

    created = await configure(sso_client, owner, idp, allowed_domains=["Example.COM", "example.com", "corp.example"])
    assert created["client_secret_set"] is True
    assert created["allowed_domains"] == ["example.com", "corp.example"]
    assert created["redirect_uri"] == "http://localhost:8000/auth/sso/callback"
    assert created["sign_in_url"] == "http://localhost:8000/auth/sso/acme"
    read = await sso_client.get(url, headers=owner.headers)
    assert CLIENT_SECRET not in read.text
    assert 'client_secret"' not in read.text.replace("client_secret_set", "")

    # At rest: AES-256-GCM under the current key, bound to the row.
    row = await stored(pg_admin)
    assert CLIENT_SECRET not in row.client_secret_enc
    keyring = Keyring.from_settings(sso_overrides_settings(sso_client))
    assert keyring.decrypt(row.client_secret_enc, associated_data=secret_aad(row.id)) == CLIENT_SECRET

    # Update without a secret keeps it; the audit trail says what changed, never the secret.
    body = connection_body(idp, allowed_domains=["example.com"], default_role="admin")
    del body["client_secret"]
    assert (await sso_client.put(url, json=body, headers=owner.headers)).status_code == 200
    assert (await stored(pg_admin)).client_secret_enc == row.client_secret_enc
    assert (
        await sso_client.put(url, json=connection_body(idp, client_secret="rotated"), headers=owner.headers)
    ).is_success
    assert (await sso_client.delete(url, headers=owner.headers)).status_code == 204
    assert (await sso_client.get(url, headers=owner.headers)).status_code == 404

    trail = await actions(pg_admin)
    assert [action for action, _ in trail] == ["sso.configured", "sso.updated", "sso.updated", "sso.deleted"]
    assert trail[0][1]["client_secret"] == "set"
    assert trail[1][1]["changed"] == {
        "allowed_domains": {"from": ["example.com", "corp.example"], "to": ["example.com"]},
        "default_role": {"from": "member", "to": "admin"},
    }
    assert trail[2][1]["client_secret"] == "replaced"
    for _, data in trail:
        assert CLIENT_SECRET not in str(data)
        assert "rotated" not in str(data)


def sso_overrides_settings(client: httpx.AsyncClient) -> Any:
    transport: Any = client._transport
    return transport.app.state.settings


async def test_only_owners_configure(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP, database: Database
) -> None:
    owner = await make_tenant(organization="Acme")
    admin = await make_tenant(organization="Elsewhere")
    stranger = await make_tenant(organization="Stranger Co")
    await add_member(database, owner, admin, "admin")
    url = f"/api/v1/organizations/{owner.organization_id}/sso"
    refused = await sso_client.put(url, json=connection_body(idp), headers=admin.headers)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "only owners may configure single sign-on"
    assert (await sso_client.put(url, json=connection_body(idp), headers=stranger.headers)).status_code == 404
    await configure(sso_client, owner, idp)
    assert (await sso_client.get(url, headers=admin.headers)).status_code == 403
    assert (await sso_client.delete(url, headers=admin.headers)).status_code == 403
    assert (await sso_client.get(url, headers=stranger.headers)).status_code == 404


async def test_input_is_validated(sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP) -> None:
    owner = await make_tenant(organization="Acme")
    url = f"/api/v1/organizations/{owner.organization_id}/sso"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"slug": "Not A Slug"}, "slug"),
        ({"slug": "callback"}, "slug"),
        ({"allowed_domains": []}, "allowed_domains"),
        ({"allowed_domains": ["*.example.com"]}, "allowed_domains"),
        ({"default_role": "owner"}, "default_role"),
        ({"client_secret": None}, "client_secret is required"),
        ({"issuer": "ftp://idp.example"}, "only http(s):// URLs"),
        ({"issuer": "https://user:pw@idp.example"}, "credentials"),
        ({"issuer": f"{idp.issuer}/"}, "names another issuer"),
        ({"issuer": idp.base_url + "/realms/missing"}, "answered HTTP 404"),
    ]
    for override, expected in cases:
        response = await sso_client.put(url, json=connection_body(idp, **override), headers=owner.headers)
        assert response.status_code == 422, (override, response.text)
        assert expected in response.text, (override, response.text)

    idp.discovery_overrides["id_token_signing_alg_values_supported"] = ["HS256", "none"]
    refused = await sso_client.put(url, json=connection_body(idp), headers=owner.headers)
    assert "algorithms refused here" in refused.json()["detail"]
    idp.discovery_overrides.clear()
    idp.discovery_overrides["code_challenge_methods_supported"] = ["plain"]
    assert "PKCE" in (await sso_client.put(url, json=connection_body(idp), headers=owner.headers)).json()["detail"]


async def test_sign_in_names_are_unique(sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP) -> None:
    first = await make_tenant(organization="Acme")
    second = await make_tenant(organization="Acme Too")
    await configure(sso_client, first, idp)
    url = f"/api/v1/organizations/{second.organization_id}/sso"
    taken = await sso_client.put(url, json=connection_body(idp), headers=second.headers)
    assert taken.status_code == 409
    assert "'acme' is taken" in taken.json()["detail"]


async def test_the_issuer_gets_the_ssrf_checks_of_git_urls(
    make_api_client: Any, clean_db: None, make_tenant: MakeTenant, idp: FakeIdP
) -> None:
    # Without the insecure-development setting: https only, and no loopback, private or metadata address.
    client = await make_api_client(**sso_overrides(allow_insecure_git_urls=False))
    loose = await make_api_client(**sso_overrides(allow_insecure_git_urls=True))
    owner = await make_tenant(organization="Acme")
    url = f"/api/v1/organizations/{owner.organization_id}/sso"
    for issuer, expected in [
        (idp.issuer, "only https:// URLs are accepted"),
        ("https://127.0.0.1/realms/acme", "is not a public address"),
        ("https://169.254.169.254/latest", "is not a public address"),
        ("https://[::ffff:10.0.0.1]/", "is not a public address"),
        ("https://localhost/realms/acme", "is not a public address"),
    ]:
        response = await client.put(url, json=connection_body(idp, issuer=issuer), headers=owner.headers)
        assert response.status_code == 422, (issuer, response.text)
        assert expected in response.json()["detail"], (issuer, response.text)
    # http alone does not open the private network: the provider's address must be listed, as for git servers.
    unlisted = await loose.put(url, json=connection_body(idp), headers=owner.headers)
    assert unlisted.status_code == 422
    assert "is not a public address (127.0.0.1)" in unlisted.json()["detail"]
    assert idp.requests == []


async def test_every_request_to_a_provider_is_checked_where_it_is_sent() -> None:
    # Discovery names the token endpoint and key set: each request is checked again when it is sent, so a
    # document (or DNS) pointing at an internal address is refused before any connection is made.
    transport = CheckedTransport(GitURLPolicy())
    async with httpx2.AsyncClient(transport=transport) as client:
        for target in (
            "https://169.254.169.254/latest/meta-data",
            "https://127.0.0.1:1/token",
            "https://[::1]/token",
            "https://10.1.2.3/certs",
            "http://example.com/token",
        ):
            with pytest.raises(ProviderError):
                await client.post(target)


async def test_requiring_sso_needs_a_session_from_the_provider(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP, pg_admin: AsyncEngine, database: Database
) -> None:
    owner = await make_tenant(email="owner@example.com", organization="Acme")
    await configure(sso_client, owner, idp)
    url = f"/api/v1/organizations/{owner.organization_id}/sso"
    body = connection_body(idp, enforced=True)
    del body["client_secret"]
    refused = await sso_client.put(url, json=body, headers=owner.headers)
    assert refused.status_code == 403
    assert "before requiring single sign-on" in refused.json()["detail"]
    await github_session(sso_client, database, owner)
    from_github = await sso_client.put(url, json=body, headers=await csrf_of(sso_client))
    assert from_github.status_code == 403

    # The owner links their account to the provider, then turns enforcement on from that session.
    idp.person = Person("owner-sub", "owner@example.com")
    await link_and_sign_in(sso_client, database, owner)
    turned_on = await sso_client.put(url, json=body, headers=await csrf_of(sso_client))
    assert turned_on.status_code == 200, turned_on.text
    assert turned_on.json()["enforced"] is True
    assert (await actions(pg_admin))[-1][1]["changed"] == {"enforced": {"from": False, "to": True}}


async def test_key_rotation_reencrypts_client_secrets(
    sso_client: httpx.AsyncClient,
    make_tenant: MakeTenant,
    idp: FakeIdP,
    pg_admin: AsyncEngine,
    pg_settings: Any,
) -> None:
    owner = await make_tenant(organization="Acme")
    await configure(sso_client, owner, idp)
    before = await stored(pg_admin)
    old = Keyring.from_settings(sso_overrides_settings(sso_client)).current
    new = Key.generate("k2")

    report = await rotate_client_secrets(async_sessionmaker(pg_admin, expire_on_commit=False), Keyring(new, [old]))
    assert (report.scanned, report.rotated, report.failed) == (1, 1, [])
    after = await stored(pg_admin)
    assert key_id_of(after.client_secret_enc) == "k2"
    assert Keyring(new).decrypt(after.client_secret_enc, associated_data=secret_aad(after.id)) == CLIENT_SECRET
    again = await rotate_client_secrets(async_sessionmaker(pg_admin, expire_on_commit=False), Keyring(new, [old]))
    assert (again.rotated, again.current) == (0, 1)

    # `autodevops keys rotate` covers them, and sign-in keeps working with the rotated keyring.
    newest = Key.generate("k3")
    env = {
        **os.environ,
        "AUTODEVOPS_ENV": "test",
        "AUTODEVOPS_DATABASE_URL": pg_settings.database_url.get_secret_value(),
        "AUTODEVOPS_DATABASE_ADMIN_URL": pg_settings.database_admin_url.get_secret_value(),
        "AUTODEVOPS_TOKEN_ENCRYPTION_KEY": newest.spec(),
        "AUTODEVOPS_TOKEN_ENCRYPTION_PREVIOUS_KEYS": new.spec(),
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [str(Path(sys.executable).parent / "autodevops"), "keys", "rotate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "1 single sign-on connections, 1 re-encrypted" in done.stdout
    assert key_id_of((await stored(pg_admin)).client_secret_enc) == "k3"
    assert before.client_secret_enc != (await stored(pg_admin)).client_secret_enc


async def test_a_secret_copied_to_another_row_does_not_decrypt(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP, pg_admin: AsyncEngine
) -> None:
    first = await make_tenant(organization="Acme")
    second = await make_tenant(organization="Beta")
    await configure(sso_client, first, idp)
    await configure(sso_client, second, idp, slug="beta", client_secret="beta-secret")
    async with pg_admin.begin() as connection:
        await connection.execute(
            text(
                "UPDATE sso_connections SET client_secret_enc = "
                "(SELECT client_secret_enc FROM sso_connections WHERE organization_id = :a) WHERE organization_id = :b"
            ),
            {"a": first.organization_id, "b": second.organization_id},
        )
    # AES-GCM's associated data binds the secret to its row: a copied value fails instead of authenticating.
    response = await sso_client.get("/auth/sso/beta")
    assert response.status_code == 500


async def test_the_settings_page_configures_it(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP, database: Database, pg_admin: AsyncEngine
) -> None:
    owner = await make_tenant(organization="Acme")
    csrf = await github_session(sso_client, database, owner)
    html_headers = {"Accept": "text/html"}
    settings_url = f"/orgs/{owner.organization_id}/settings"
    page = await sso_client.get(settings_url, headers=html_headers)
    assert "Single sign-on" in page.text
    assert "http://localhost:8000/auth/sso/callback" in page.text
    form = {
        "csrf_token": csrf,
        "slug": "acme",
        "issuer": idp.issuer,
        "client_id": "autodevops-test-client",
        "client_secret": CLIENT_SECRET,
        "allowed_domains": "example.com, corp.example",
        "default_role": "admin",
        "allow_personal_tokens": "on",  # checked; jit_provisioning and enforced unchecked (absent)
    }
    saved = await sso_client.post(f"/orgs/{owner.organization_id}/sso", data=form, headers=html_headers)
    assert saved.status_code == 303, saved.text
    read = (await sso_client.get(f"/api/v1/organizations/{owner.organization_id}/sso")).json()
    assert read["allowed_domains"] == ["example.com", "corp.example"]
    assert (read["jit_provisioning"], read["enforced"], read["allow_personal_tokens"]) == (False, False, True)
    page = await sso_client.get(settings_url, headers=html_headers)
    assert CLIENT_SECRET not in page.text
    assert "http://localhost:8000/auth/sso/acme" in page.text

    # An empty secret keeps the stored one; a bad form is an error page naming the field.
    before = await stored(pg_admin)
    form.update(client_secret="", jit_provisioning="on")
    assert (
        await sso_client.post(f"/orgs/{owner.organization_id}/sso", data=form, headers=html_headers)
    ).status_code == 303
    assert (await stored(pg_admin)).client_secret_enc == before.client_secret_enc
    bad = await sso_client.post(
        f"/orgs/{owner.organization_id}/sso", data={**form, "allowed_domains": "not a domain"}, headers=html_headers
    )
    assert bad.status_code == 422
    assert "allowed_domains" in bad.text
    removed = await sso_client.post(
        f"/orgs/{owner.organization_id}/sso/delete", data={"csrf_token": csrf}, headers=html_headers
    )
    assert removed.status_code == 303
    assert (await sso_client.get(f"/api/v1/organizations/{owner.organization_id}/sso")).status_code == 404
