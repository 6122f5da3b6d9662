"""Sign-in links (`autodevops users login-link`): the way into the dashboard without GitHub or single sign-on,
and the sign-in page offering only the methods this installation has."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from autodevops.auth import login_links, sessions
from autodevops.config import Settings
from autodevops.db import Database, tenant_session
from autodevops.errors import Forbidden
from autodevops.models import SSOConnection
from platform_support import MakeTenant, Tenant, run_cli

pytestmark = pytest.mark.usefixtures("clean_db")
HTML = {"Accept": "text/html"}
BROWSER_SETTINGS: dict[str, Any] = {"public_url": "http://localhost:8000", "session_cookie_secure": False}


@pytest.fixture
async def browser(make_api_client: Any) -> httpx.AsyncClient:
    client: httpx.AsyncClient = await make_api_client(**BROWSER_SETTINGS)
    return client


def settings_of(client: httpx.AsyncClient) -> Settings:
    transport: Any = client._transport
    settings: Settings = transport.app.state.settings
    return settings


async def new_link(database: Database, settings: Settings, tenant: Tenant, ttl: timedelta | None = None) -> str:
    """The secret of a fresh link for `tenant`'s user (what the CLI prints, less the URL around it)."""
    async with tenant_session(database, user_id=tenant.user_id) as session:
        url, _ = await login_links.create_link(session, settings, tenant.user, ttl=ttl or login_links.DEFAULT_TTL)
    assert url.startswith("http://localhost:8000/auth/link?token=adl_")
    return parse_qs(urlsplit(url).query)["token"][0]


async def use(client: httpx.AsyncClient, secret: str) -> httpx.Response:
    return await client.post("/auth/link", data={"token": secret}, headers=HTML)


async def test_a_link_signs_in_once_and_is_stored_only_as_its_hash(
    browser: httpx.AsyncClient, make_tenant: MakeTenant, database: Database, pg_admin: AsyncEngine
) -> None:
    tenant = await make_tenant(email="sam@example.com")
    secret = await new_link(database, settings_of(browser), tenant)

    # Opening the URL only shows the button: a link preview fetching it does not use it up.
    page = await browser.get(f"/auth/link?token={secret}", headers=HTML)
    assert page.status_code == 200
    assert f'name="token" value="{secret}"' in page.text
    assert "set-cookie" not in page.headers

    signed_in = await use(browser, secret)
    assert signed_in.status_code == 303, signed_in.text
    assert signed_in.headers["location"] == "/orgs"
    me = await browser.get("/api/v1/auth/session")
    assert me.status_code == 200
    assert me.json()["email"] == "sam@example.com"
    orgs = await browser.get("/orgs", headers=HTML)
    assert orgs.status_code == 200
    assert "Acme" in orgs.text

    # Used once: the same link is refused afterwards, even in a fresh browser.
    browser.cookies.clear()
    again = await use(browser, secret)
    assert again.status_code == 400
    assert "invalid, expired or already used" in again.text
    assert sessions.cookie_name(settings_of(browser)) not in again.headers.get("set-cookie", "")

    async with pg_admin.connect() as connection:
        stored = (await connection.execute(text("SELECT token_hash, used_at FROM login_links"))).one()
        actions = (
            await connection.scalars(
                text("SELECT action FROM audit_events WHERE user_id = :u ORDER BY created_at"), {"u": tenant.user_id}
            )
        ).all()
    assert stored.token_hash == login_links.hash_link(secret)
    assert secret not in stored.token_hash
    assert stored.used_at is not None
    assert [a for a in actions if a.startswith("login_link.")] == ["login_link.created", "login_link.used"]


async def test_expired_wrong_malformed_and_disabled_links_are_refused(
    browser: httpx.AsyncClient, make_tenant: MakeTenant, database: Database, pg_admin: AsyncEngine
) -> None:
    tenant = await make_tenant()
    settings = settings_of(browser)

    expired = await new_link(database, settings, tenant)
    async with pg_admin.begin() as connection:
        await connection.execute(text("UPDATE login_links SET expires_at = now() - interval '1 second'"))
    assert (await use(browser, expired)).status_code == 400

    wrong = "adl_" + "A" * 43  # well-formed, never issued
    assert (await use(browser, wrong)).status_code == 400
    malformed = await browser.get("/auth/link?token=not-a-link", headers=HTML)
    assert malformed.status_code == 400
    assert "invalid, expired or already used" in malformed.text
    assert 'name="token"' not in malformed.text

    live = await new_link(database, settings, tenant)
    async with tenant_session(database, user_id=tenant.user_id) as session:
        await sessions.disable_user(session, tenant.user_id)
    refused = await use(browser, live)
    assert refused.status_code == 400
    assert "set-cookie" not in refused.headers
    # A refused attempt does not use the link up: re-enabled, the same link works.
    async with tenant_session(database, user_id=tenant.user_id) as session:
        await sessions.enable_user(session, tenant.user_id)
    assert (await use(browser, live)).status_code == 303

    # A disabled user gets no new link either.
    async with tenant_session(database, user_id=tenant.user_id) as session:
        await sessions.disable_user(session, tenant.user_id)
    with pytest.raises(Forbidden):
        await new_link(database, settings, tenant)


async def test_a_link_is_one_users_row_and_invisible_to_others(
    browser: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    alice, bob = await make_tenant(), await make_tenant()
    await new_link(database, settings_of(browser), alice)
    async with tenant_session(database, user_id=bob.user_id) as session:
        assert (await session.execute(text("SELECT count(*) FROM login_links"))).scalar() == 0
    async with tenant_session(database, user_id=alice.user_id) as session:
        assert (await session.execute(text("SELECT count(*) FROM login_links"))).scalar() == 1


@pytest.mark.slow
async def test_cli_prints_a_working_link(pg_settings: Settings, browser: httpx.AsyncClient) -> None:
    assert run_cli(pg_settings, "users", "create", "ops@example.com").returncode == 0
    printed = run_cli(pg_settings, "users", "login-link", "OPS@example.com", "--expires-in-minutes", "5")
    assert printed.returncode == 0, printed.stderr
    assert re.fullmatch(r"http://localhost:8000/auth/link\?token=adl_[A-Za-z0-9_-]{43}\n", printed.stdout)
    assert "works once" in printed.stderr
    secret = parse_qs(urlsplit(printed.stdout.strip()).query)["token"][0]
    assert (await use(browser, secret)).status_code == 303

    unknown = run_cli(pg_settings, "users", "login-link", "nobody@example.com")
    assert unknown.returncode == 1
    assert "user not found" in unknown.stderr
    too_long = run_cli(pg_settings, "users", "login-link", "ops@example.com", "--expires-in-minutes", "5000")
    assert too_long.returncode == 2


async def test_sign_in_page_offers_only_configured_methods(
    make_api_client: Any, make_tenant: MakeTenant, database: Database
) -> None:
    plain = await make_api_client(**BROWSER_SETTINGS)
    redirected = await plain.get("/orgs", headers=HTML)
    assert redirected.status_code == 303
    assert redirected.headers["location"] == "/sign-in?next=/orgs"
    for url in ("/sign-in?next=/orgs", "/"):
        page = await plain.get(url, headers=HTML)
        assert page.status_code == 200
        assert "/auth/github/login" not in page.text
        assert "/auth/sso" not in page.text
        assert "autodevops users login-link" in page.text

    with_github = await make_api_client(
        **BROWSER_SETTINGS, github_client_id="Iv1.client", github_client_secret="client-secret"
    )
    page = await with_github.get("/sign-in?next=/orgs/x", headers=HTML)
    assert 'href="/auth/github/login?next=/orgs/x"' in page.text
    assert "/auth/sso" not in page.text

    tenant = await make_tenant()
    async with tenant_session(database, user_id=tenant.user_id) as session:
        session.add(
            SSOConnection(
                organization_id=tenant.organization_id,
                slug="acme",
                issuer="https://idp.example",
                client_id="client",
                client_secret_enc="not-decrypted-here",
                allowed_domains=["example.com"],
                jit_provisioning=False,
                default_role="member",
            )
        )
    page = await plain.get("/", headers=HTML)
    # No destination asked for: single sign-on lands on its own organization, not on a generic page.
    assert 'href="/auth/sso"' in page.text
    assert "/auth/github/login" not in page.text


async def test_bearer_tokens_work_on_pages_for_scripts(api_client: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
    tenant = await make_tenant(organization="Scripted")
    page = await api_client.get("/orgs", headers={**HTML, **tenant.headers})
    assert page.status_code == 200
    assert "Scripted" in page.text
    # A form post with a bearer token needs no CSRF token: browsers never attach the header on their own.
    created = await api_client.post("/orgs", data={"name": "From a script"}, headers={**HTML, **tenant.headers})
    assert created.status_code == 303
