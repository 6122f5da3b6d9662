"""Single sign-on in a real Chromium (Debian's, driven by Playwright): the whole sign-in, from the home page
through the organization's identity provider (the local OpenID provider, on another origin) and back.

The app runs under uvicorn as a subprocess, as in `tests/dashboard/test_browser.py`; PostgreSQL and Redis
are real. Screenshots go to `artifacts/screenshots/sso-*.png`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

import platform_support
from dashboard.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, TIMEOUT_MS, Stack, _env, _free_port
from platform_support import MakeTenant

from .conftest import connection_body, private_server
from .fake_idp import FakeIdP, Person

pytestmark = [
    pytest.mark.usefixtures("clean_db"),
    pytest.mark.slow,
    pytest.mark.timeout(180),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"),
]


@pytest.fixture
async def app_url(pg_settings: object, tmp_path: Path, idp: FakeIdP) -> AsyncIterator[str]:
    port = _free_port()
    base = f"http://localhost:{port}"
    env = _env(
        pg_settings,  # type: ignore[arg-type]
        env="test",
        public_url=base,
        session_cookie_secure="false",
        allow_insecure_git_urls="true",  # the provider speaks http, on loopback (listed as a private server)
        git_private_servers=private_server(idp),
        rate_limit_enabled="false",
        log_json="true",
        log_level="WARNING",
        jobs_key_prefix=f"test-sso-browser-{platform_support.test_database_name()}",
    )
    stack = Stack(env, tmp_path)
    stack.spawn(
        "web",
        ["-m", "uvicorn", "autodevops.web:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port)],
    )
    try:
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient() as client:
            while True:
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/health", timeout=1)).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"the app did not start:\n{stack.logs()}"
                await asyncio.sleep(0.1)
        yield base
    finally:
        stack.stop()


async def test_sign_in_with_sso_in_chromium(app_url: str, idp: FakeIdP, make_tenant: MakeTenant) -> None:
    from playwright.async_api import async_playwright, expect

    owner = await make_tenant(organization="Acme")
    async with httpx.AsyncClient(base_url=app_url) as api:
        configured = await api.put(
            f"/api/v1/organizations/{owner.organization_id}/sso",
            json=connection_body(idp, default_role="admin"),
            headers=owner.headers,
        )
        assert configured.status_code == 200, configured.text
    idp.person = Person("ada-sub", "ada@example.com", name="Ada Lovelace")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        try:
            await page.goto(app_url + "/")
            await page.get_by_role("link", name="Sign in with SSO").first.click()
            await expect(page.get_by_role("heading", name="Sign in with SSO")).to_be_visible()
            await page.get_by_label("Work email or organization sign-in name").fill("ada@example.com")
            await page.screenshot(path=str(SCREENSHOTS / "sso-1-sign-in.png"), full_page=True)
            await page.get_by_role("button", name="Continue").click()

            # The forwarding page sends the browser to the provider (another origin), which signs Ada in.
            await expect(page.get_by_role("heading", name="Acme identity provider")).to_be_visible()
            assert page.url.startswith(idp.issuer)
            await page.screenshot(path=str(SCREENSHOTS / "sso-2-provider.png"), full_page=True)
            await page.get_by_role("button", name="Sign in to Acme").click()

            # Back at the app: signed in, a member of Acme (just-in-time), on its repositories.
            await expect(page.get_by_text("No repository is connected to Acme yet")).to_be_visible()
            assert page.url == f"{app_url}/orgs/{owner.organization_id}/repositories"
            await expect(page.locator(".account")).to_contain_text("Ada Lovelace")
            await page.screenshot(path=str(SCREENSHOTS / "sso-3-signed-in.png"), full_page=True)
            assert idp.count("/token") == 1
            assert not [e for e in errors if "Content Security Policy" in e], errors
        finally:
            await browser.close()
