"""The GitLab flow in a real Chromium (Playwright) against the real app and worker on loopback, GitLab being
the local fake: sign in with GitLab, connect a project with an access token, analyze it (the worker reads it
over GitLab's API), generate the pipeline, open the merge request, then a push to the default branch arrives
as a webhook, is analyzed again and its CI drift shows on the repository page. Screenshots go to
`artifacts/screenshots/gitlab-*.png`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

import platform_support
from autodevops.config import Settings
from dashboard.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, TIMEOUT_MS, Stack, _env, _free_port
from gitlab.fake_gitlab import CLIENT_ID, CLIENT_SECRET, FakeGitLab
from platform_support import redis_url

JOBS_PREFIX = f"test-gitlab-browser-{platform_support.test_database_name()}"

pytestmark = [
    pytest.mark.usefixtures("clean_db"),
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"),
]

PROJECT = {
    "pyproject.toml": '[project]\nname = "app"\nversion = "1.0"\nrequires-python = ">=3.11"\n'
    '[project.optional-dependencies]\ndev = ["pytest"]\n',
    "src/app/__init__.py": "def add(a, b):\n    return a + b\n",
    "tests/test_app.py": "from app import add\n\ndef test_add():\n    assert add(1, 2) == 3\n",
}


@pytest.fixture
def fake() -> Iterator[FakeGitLab]:
    gitlab = FakeGitLab()
    server = gitlab.start()
    yield gitlab
    server.stop()


@pytest.fixture
async def platform(pg_settings: Settings, fake: FakeGitLab, tmp_path: Path) -> AsyncIterator[tuple[str, Stack]]:
    port = _free_port()
    base = f"http://localhost:{port}"
    env = _env(
        pg_settings,
        env="test",
        public_url=base,
        session_cookie_secure="false",
        rate_limit_enabled="false",
        log_json="true",
        log_level="WARNING",
        jobs_key_prefix=JOBS_PREFIX,
        jobs_time_scale="0.25",  # job timeouts of about a minute: validation is slow on a busy machine
        gitlab_url=fake.base_url,
        gitlab_client_id=CLIENT_ID,
        gitlab_client_secret=CLIENT_SECRET,
        gitlab_rate_limit_max_wait="1",
        allow_insecure_git_urls="true",
        git_private_servers=fake.base_url.removeprefix("http://"),
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
        stack.spawn("worker", ["-m", "autodevops", "worker", "-c", "2"])
        yield base, stack
    finally:
        stack.stop()
        redis = aioredis.from_url(redis_url(0))
        keys = [key async for key in redis.scan_iter(match=f"{JOBS_PREFIX}*", count=1000)]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


async def test_the_gitlab_flow_in_chromium(platform: tuple[str, Stack], fake: FakeGitLab) -> None:
    from playwright.async_api import Page, async_playwright, expect

    base, stack = platform
    alice = fake.add_user("alice")
    project = fake.add_project("acme/app", members={alice: 40}, files=dict(PROJECT))
    token = fake.project_token(project)
    fake.authorize_as = alice.id
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    async def shot(page: Page, name: str) -> None:
        await page.screenshot(path=str(SCREENSHOTS / f"gitlab-{name}.png"), full_page=True)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        try:
            await page.goto(base + "/")
            await page.get_by_role("link", name="Sign in with GitLab").first.click()
            await expect(page.get_by_role("heading", name="Organizations")).to_be_visible()
            await page.locator("main").get_by_role("link", name="alice", exact=True).click()
            await page.get_by_label("Project path or ID").fill("acme/app")
            await page.get_by_label("Access token").fill(token)
            await shot(page, "01-connect")
            await page.get_by_role("button", name="Connect").first.click()
            await expect(page.get_by_role("heading", name="acme/app")).to_be_visible()
            await expect(page.get_by_text("registered (push and merge request events)")).to_be_visible()
            repository_url = page.url

            await page.get_by_role("button", name="Analyze", exact=True).click()  # the header card's next step
            await expect(page.locator("#progress-status")).to_have_text("Done", timeout=TIMEOUT_MS)
            await expect(page.locator("#result")).to_contain_text("pytest")
            await shot(page, "02-analysis")

            # Back on the repository: its next step is the pipeline, then the merge request.
            await page.goto(repository_url)
            await page.get_by_role("button", name="Generate pipeline").click()
            await expect(page.get_by_text(".gitlab-ci.yml").first).to_be_visible(timeout=TIMEOUT_MS)
            await page.goto(repository_url)
            await page.locator("#next-action").click()  # "Open merge request"
            mr_link = page.locator("#merge-requests a").first
            await expect(mr_link).to_have_text("!1")
            await expect(page.locator("#notice")).to_have_text("Merge request !1 opened.")
            assert (await mr_link.get_attribute("href") or "").startswith(fake.base_url)
            await shot(page, "03-merge-request")
            assert set(fake.files_at(project, "autodevops/ci")) - set(PROJECT) == {".gitlab-ci.yml"}

            # A push to the default branch with a hand-written CI file: GitLab delivers the webhook, the
            # platform analyzes again and records the drift.
            after = fake.push(project, "main", {**PROJECT, ".gitlab-ci.yml": "test:\n  script: [make]\n"})
            hook = project.hooks[0]
            payload = {
                "object_kind": "push",
                "ref": "refs/heads/main",
                "after": after,
                "project": {"id": project.id, "default_branch": "main"},
            }
            url = str(hook["url"]).replace("localhost", "127.0.0.1")
            delivered = await asyncio.to_thread(fake.webhook, url, "Push Hook", payload, token=str(hook["token"]))
            assert delivered.status_code == 202, delivered.text
            assert delivered.json()["outcome"] == "queued 1 analysis"
            deadline = time.monotonic() + TIMEOUT_MS / 1000
            while True:
                await page.goto(repository_url)
                if await page.get_by_role("heading", name="CI drift after pushes").count():
                    break
                assert time.monotonic() < deadline, stack.logs()
                await asyncio.sleep(1)
            # The pushed commit is the one the drift finding names.
            await expect(page.get_by_role("table").get_by_text(after[:12], exact=True)).to_be_visible()
            await shot(page, "04-drift")
        except Exception:
            await shot(page, "failure")
            print(stack.logs())
            raise
        finally:
            await browser.close()
