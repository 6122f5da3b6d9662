"""The dashboard in a real Chromium (Debian's, driven by Playwright) against the real app on loopback.

uvicorn serves the app as a subprocess, a real worker subprocess runs the jobs, PostgreSQL and Redis are real;
GitHub and the AI provider are the local fakes speaking their wire protocols. One flow, in the order a person
goes: sign in, connect a repository, analyze it and watch the progress arrive live, generate the pipeline,
open the pull request, see a failing analysis land in the dead-letter queue and requeue it, and find that
another organization's repository is a 404. A screenshot of each main page is saved under
`artifacts/screenshots/`.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

import platform_support
from ai.fake_server import FakeAI, ServerThread
from autodevops.auth import login_links
from autodevops.auth import service as auth_service
from autodevops.config import Settings
from autodevops.db import Database, tenant_session
from autodevops.models import OrganizationMember, Repository
from github.fake_github import APP_ID, CLIENT_ID, CLIENT_SECRET, FakeGitHub, generate_app_key
from platform_support import MakeTenant, redis_url

# Debian's Chromium here; on a CI runner image whatever Chromium-based browser it ships (CHROMIUM names another).
CHROMIUM = next(
    (
        Path(p)
        for p in (
            os.environ.get("CHROMIUM", ""),
            "/usr/bin/chromium",
            "/usr/bin/chromium-browser",
            "/usr/bin/google-chrome",
        )
        if p and Path(p).is_file()
    ),
    Path("/usr/bin/chromium"),
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
# axe-core from npm (`make setup`): every page the flow visits is checked in the browser.
AXE = Path(__file__).resolve().parents[2] / ".tmp" / "node" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
# Redis is shared by every test run on the machine: a prefix of this run's own keeps another run's worker
# from taking (and dropping) this run's jobs.
JOBS_PREFIX = f"test-dash-browser-{platform_support.test_database_name()}"
TIMEOUT_MS = 60_000

pytestmark = [
    pytest.mark.usefixtures("clean_db"),
    pytest.mark.slow,
    pytest.mark.timeout(300),  # a browser, a server, a worker and three jobs on a shared machine
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"),
    pytest.mark.skipif(not AXE.exists(), reason="needs axe-core from npm (make setup)"),
]


async def axe_violations(page: Any) -> list[str]:
    """The page's serious and critical accessibility violations, as axe-core reports them.

    axe is evaluated through the DevTools protocol, which the page's CSP does not govern (a script tag would
    be refused, as it should be).
    """
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(AXE.read_text())
    results = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{page.url}: {violation['id']} ({violation['impact']}) {violation['help']} — "
        + "; ".join(
            node["target"][0] if isinstance(node["target"][0], str) else str(node["target"])
            for node in violation["nodes"][:3]
        )
        for violation in results["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]


PYTHON_PROJECT = {
    "pyproject.toml": (
        '[project]\nname = "app"\nversion = "1.0"\nrequires-python = ">=3.11"\n'
        'dependencies = ["psycopg>=3"]\n\n[project.optional-dependencies]\ndev = ["pytest", "ruff"]\n'
    ),
    "src/app/__init__.py": "def add(a, b):\n    return a + b\n",
    "tests/test_app.py": "from app import add\n\ndef test_add():\n    assert add(1, 2) == 3\n",
    ".github/workflows/ci.yml": (
        "name: old\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n"
    ),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(settings: Settings, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTODEVOPS_")}
    for name in ("database_url", "database_admin_url", "redis_url"):
        value = getattr(settings, name)
        env[f"AUTODEVOPS_{name.upper()}"] = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    env.update({f"AUTODEVOPS_{k.upper()}": v for k, v in values.items()})
    return env


class Stack:
    """The processes of the platform under test: the web server and (started on demand) a worker."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []

    def spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("wb")
        proc = subprocess.Popen([sys.executable, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in sorted(self.log_dir.glob("*.log")))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub(generate_app_key())
    server = fake.start()
    yield fake
    server.stop()


@pytest.fixture
def fake_ai() -> Iterator[FakeAI]:
    fake = FakeAI()
    server = ServerThread(fake)
    server.start()
    yield fake
    server.stop()


@pytest.fixture
async def platform(
    pg_settings: Settings, fake_github: FakeGitHub, fake_ai: FakeAI, tmp_path: Path
) -> AsyncIterator[tuple[str, Stack]]:
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
        # Pipeline jobs get 27 s (validation runs actionlint, ShellCheck and zizmor on a shared machine),
        # a failing analysis retries after about 5 and 20 s.
        jobs_time_scale="0.15",
        ai_key_prefix=f"{JOBS_PREFIX}-ai",
        github_api_url=fake_github.base_url,
        github_web_url=fake_github.base_url,
        github_app_id=APP_ID,
        github_app_private_key=fake_github.app_private_key,
        github_client_id=CLIENT_ID,
        github_client_secret=CLIENT_SECRET,
        github_rate_limit_max_wait="1",
        ai_models="openai:fake-model",
        openai_api_key="test-key",
        ai_openai_base_url=f"{fake_ai.url}/v1",
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
        yield base, stack
    finally:
        stack.stop()
        redis = aioredis.from_url(redis_url(0))
        keys = [key async for key in redis.scan_iter(match=f"{JOBS_PREFIX}*", count=1000)]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


async def _other_organizations_repository(make_tenant: MakeTenant, database: Database) -> uuid.UUID:
    other = await make_tenant(organization="Other Co")
    async with tenant_session(database, user_id=other.user_id) as session:
        repo = Repository(
            organization_id=other.organization_id,
            name="hidden",
            source="git",
            clone_url="https://example.com/other/hidden.git",
        )
        session.add(repo)
        await session.flush()
        return repo.id


async def login_link(database: Database, base: str, email: str) -> tuple[str, uuid.UUID]:
    """A new user and their one-time sign-in link, as `autodevops users create` and `users login-link` make them."""
    async with tenant_session(database) as session:
        user = await auth_service.create_user(session, email, name="Mona")
    async with tenant_session(database, user_id=user.id) as session:
        url, _ = await login_links.create_link(session, platform_support.platform_settings(public_url=base), user)
    return url, user.id


async def test_the_whole_flow_in_chromium(
    platform: tuple[str, Stack],
    fake_github: FakeGitHub,
    make_tenant: MakeTenant,
    database: Database,
) -> None:
    from playwright.async_api import Page, async_playwright, expect

    base, stack = platform
    mona = fake_github.add_user("mona")
    mona.emails = [{"email": "mona@example.com", "primary": True, "verified": True}]
    installation = fake_github.add_installation("mona", users=[mona])
    fake_github.add_repo(installation, "mona", "app", PYTHON_PROJECT)
    fake_github.add_repo(installation, "mona", "broken", PYTHON_PROJECT)
    fake_github.authorize_as = mona.id
    hidden_repo = await _other_organizations_repository(make_tenant, database)
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)

    inaccessible: list[str] = []

    async def shot(page: Page, name: str) -> None:
        """Save the page's screenshot and check it with axe-core."""
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        if name != "failure":
            inaccessible.extend(await axe_violations(page))

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        try:
            # Signed out: the home page offers the configured sign-in; the skip link comes first for keyboards.
            await page.goto(base + "/")
            await expect(page.get_by_role("link", name="Sign in with GitHub")).to_be_visible()
            await shot(page, "01-home")
            await page.keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.className") == "skip-link"

            # An administrator's one-time sign-in link (`autodevops users login-link`): no GitHub needed.
            link, mona_id = await login_link(database, base, "mona@example.com")
            await page.goto(link)
            await shot(page, "01b-sign-in-link")
            await page.get_by_role("button", name="Sign in").click()
            await expect(page.get_by_role("heading", name="Organizations")).to_be_visible()
            await page.get_by_label("Name").fill("mona")
            await page.get_by_role("button", name="Create organization").click()
            await expect(page.get_by_text("No repository is connected to mona yet")).to_be_visible()
            await shot(page, "02-repositories-empty")

            # Connecting from GitHub needs the person's GitHub account: signing in with GitHub joins it to this
            # user by its verified primary email (no second user).
            await page.get_by_role("link", name="Choose a GitHub repository").click()
            await page.get_by_role("link", name="Sign in with GitHub again").click()

            # Back from GitHub on the connect page: connect from the installation.
            await expect(page.get_by_role("button", name="Connect mona/app")).to_be_visible()
            await shot(page, "03-connect-github")
            await page.get_by_role("button", name="Connect mona/app").click()
            await expect(page.get_by_role("heading", name="mona/app")).to_be_visible()
            repository_url = page.url

            # Analyze: the page is rendered while the job is queued (no worker yet); the worker starts after,
            # so every step reaches this same document through server-sent events.
            await page.locator("#next-action").click()  # the header card's one primary action: "Analyze"
            # Rendered as "Job pending"; the stream's first event ("queued") may already have replaced it.
            await expect(page.locator("#progress-status")).to_contain_text(re.compile(r"pending|queued"))
            await page.evaluate("window.sameDocument = true")
            await expect(page.get_by_role("button", name="Generate pipeline")).to_be_hidden()  # not before done
            # A second tab on the repositories list: HTMX refreshes the table while the analysis runs.
            nav = page.get_by_role("navigation", name="Organization")
            repositories_url = base + (await nav.get_by_role("link", name="Repositories").get_attribute("href") or "")
            list_page = await context.new_page()
            await list_page.goto(repositories_url)
            assert await list_page.evaluate("typeof window.htmx") == "object"
            await expect(list_page.locator("#repositories-live")).to_contain_text("pending")
            await list_page.evaluate("window.sameDocument = true")
            # A third tab on the repository: its header card follows the analysis and offers the next step.
            repo_page = await context.new_page()
            await repo_page.goto(repository_url)
            await expect(repo_page.locator("#next-action")).to_have_text("Follow the analysis")
            await repo_page.evaluate("window.sameDocument = true")
            stack.spawn("worker", ["-m", "autodevops", "worker", "-c", "2"])
            await expect(page.locator("#progress-status")).to_have_text("Done", timeout=TIMEOUT_MS)
            await expect(page.locator("#result")).to_contain_text("Stacks")
            await expect(page.locator("#result")).to_contain_text("pytest")
            assert await page.evaluate("window.sameDocument === true"), "the page reloaded"
            logged = await page.locator("#progress-log li").all_inner_texts()
            assert any("analyzing" in line for line in logged), logged
            assert any("done" in line for line in logged), logged
            await expect(page.locator("#live-status")).to_have_text("succeeded")
            # The next step appears in the same document once the analysis is done.
            await expect(page.get_by_role("button", name="Generate pipeline")).to_be_visible()
            await expect(page.locator('.steps li[data-step="done"]')).to_have_class(re.compile("complete"))
            await shot(page, "04-analysis-live-done")
            await expect(list_page.locator("#repositories-live")).to_contain_text("succeeded")
            assert await list_page.evaluate("window.sameDocument === true"), "the list reloaded"
            await list_page.close()
            await expect(repo_page.locator("#next-action")).to_have_text("Generate pipeline")
            await expect(repo_page.locator("#repo-status")).to_have_text("Analyzed")
            await expect(repo_page.get_by_role("status").filter(has_text="Analyzed")).to_have_id("repo-status-live")
            await expect(repo_page.locator("#repo-header .chips")).to_contain_text("python")
            await expect(repo_page.locator("#repo-analysis").get_by_role("heading", name="Stacks")).to_be_visible()
            assert await repo_page.evaluate("window.sameDocument === true"), "the repository page reloaded"
            await shot(repo_page, "04b-repository-next-step")
            await repo_page.close()

            await page.goto(repository_url)
            await expect(page.get_by_role("heading", name="Stacks")).to_be_visible()
            await expect(page.locator(".evidence").first).to_be_visible()
            await shot(page, "05-repository")

            # Generate the pipeline, follow the job, then read the files, validation and diff.
            # Generation is followed on the pipeline page itself; the files replace the progress when done.
            await page.locator("#next-action").click()  # "Generate pipeline"
            await expect(page.get_by_role("heading", name="Pipeline", exact=True)).to_be_visible()
            await expect(page.get_by_role("heading", name="Files")).to_be_visible(timeout=TIMEOUT_MS)
            await expect(page.locator(".highlight").first).to_be_visible()
            await expect(page.locator("#jobs-summary")).to_contain_text("ubuntu")
            # With JavaScript the files are tabs, each with a copy button (line numbers are not copied).
            ci_tab = page.get_by_role("tab", name=".github/workflows/ci.yml")
            await ci_tab.click()
            await expect(ci_tab).to_have_attribute("aria-selected", "true")
            await expect(page.get_by_role("button", name="Copy .github/workflows/ci.yml")).to_be_visible()
            await ci_tab.press("ArrowRight")  # the arrow keys move between tabs
            await expect(ci_tab).to_have_attribute("aria-selected", "false")
            await expect(page.locator('[role="tab"]:focus')).to_have_attribute("aria-selected", "true")
            await expect(page.get_by_role("button", name="Copy .github/workflows/ci.yml")).to_be_hidden()
            await ci_tab.click()
            changed = page.locator("summary", has_text=".github/workflows/ci.yml — changed")
            await changed.click()  # the diff opens from the keyboard or the mouse; it is closed at first
            await expect(page.locator("details[open] .code", has_text="name: old")).to_be_visible()
            await shot(page, "06-pipeline")
            async with page.expect_download() as download_info:
                await page.get_by_role("link", name="Download (.zip)").click()
            download = await download_info.value
            assert download.suggested_filename.endswith(".zip")

            await page.get_by_role("button", name="Open pull request").click()
            pr_link = page.locator("#pull-requests a").first
            await expect(pr_link).to_contain_text("mona/app#")
            await expect(page.locator("#notice")).to_have_text(re.compile(r"^Pull request #\d+ opened\.$"))
            assert (await pr_link.get_attribute("href") or "").startswith(fake_github.base_url)
            await shot(page, "07-pull-request")

            # A repository GitHub refuses to serve: the analysis fails live, lands in the dead-letter queue.
            await page.get_by_role("navigation", name="Organization").get_by_role("link", name="Repositories").click()
            await page.get_by_role("link", name="Choose a GitHub repository").click()
            await page.get_by_role("button", name="Connect mona/broken").click()
            fake_github.forbid("/repos/mona/broken")
            await page.locator("#next-action").click()  # "Analyze"
            await expect(page.locator("#progress-status")).to_have_text("Failed", timeout=TIMEOUT_MS)
            await expect(page.locator("#progress-error")).to_be_visible()
            await shot(page, "08-analysis-failed")

            await page.get_by_role("link", name="Jobs").click()
            dead_letters = page.locator("section", has=page.get_by_role("heading", name="Dead-letter queue"))
            requeue = dead_letters.get_by_role("button", name="Requeue Analysis of mona/broken")
            await expect(requeue).to_be_visible()
            await shot(page, "09-jobs-dead-letters")
            fake_github.rate_limits.clear()  # GitHub serves the repository again
            await requeue.click()
            await expect(page.locator("#notice")).to_contain_text("Requeued")
            await expect(page.locator("#progress-status")).to_have_text("Done", timeout=TIMEOUT_MS)
            # The job page follows the new run only: the old run's failure is not replayed as progress.
            await expect(page.locator("#progress-error")).to_be_hidden()
            logged = await page.locator("#progress-log li").all_inner_texts()
            assert logged
            assert not any("failed" in line for line in logged), logged
            await shot(page, "10-requeued-job")

            # Sam, a member of Mona's organization (as if Sam had accepted an invitation).
            nav = page.get_by_role("navigation", name="Organization")
            jobs_href = await nav.get_by_role("link", name="Jobs").get_attribute("href")
            organization_id = uuid.UUID((jobs_href or "").split("/")[2])
            async with tenant_session(database) as session:
                sam = await auth_service.create_user(session, "sam@example.com", name="Sam")
            async with tenant_session(database, user_id=mona_id) as session:
                session.add(OrganizationMember(organization_id=organization_id, user_id=sam.id, role="member"))
                await session.flush()

            # The other pages people use.
            for name, label in (("11-ai", "AI"), ("12-settings", "Settings")):
                await page.get_by_role("link", name=label, exact=True).click()
                await expect(page.locator("main h1")).to_be_visible()
                await shot(page, name)
            await expect(page.get_by_role("cell", name="Mona mona@example.com")).to_be_visible()
            # A member's role changes in one step: picking it saves it (the Save button is for no-JavaScript).
            await expect(page.get_by_role("button", name="Save the role of sam@example.com")).to_be_hidden()
            await page.get_by_label("Role of sam@example.com", exact=True).select_option("admin")
            await expect(page.locator("#notice")).to_have_text("Sam is now admin.")
            await expect(page.get_by_label("Role of sam@example.com", exact=True)).to_have_value("admin")
            await expect(page.get_by_role("button", name="Remove mona@example.com")).to_have_count(0)  # yourself
            # The plan's limits and their use, read on the same page (server-rendered, checked by axe with it).
            usage = page.locator("#usage")
            await expect(usage.get_by_role("heading", name="Plan and usage")).to_be_visible()
            await expect(usage.get_by_role("rowheader", name="AI tokens this month")).to_be_visible()
            await expect(usage.locator("#limit-repositories td").first).to_have_text(re.compile(r"^[1-9]"))
            await expect(usage.locator("#limit-analyses_per_day td").last).to_contain_text("00:00 UTC")
            await page.goto(base + "/settings/tokens")
            await page.get_by_label("Name").fill("ci")
            await page.get_by_role("button", name="Create token").click()
            await expect(page.locator("#new-token")).to_have_value(re.compile("^adt_"))
            await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
            await page.get_by_role("button", name="Copy the token").click()
            await expect(page.locator(".copy-done")).to_have_text("Copied.")
            assert (
                await page.evaluate("navigator.clipboard.readText()") == await page.locator("#new-token").input_value()
            )
            await shot(page, "13-tokens")

            # Another organization's repository is a 404 page, in the same layout.
            response = await page.goto(f"{base}/repositories/{hidden_repo}")
            assert response is not None
            assert response.status == 404
            await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
            await shot(page, "14-not-found")

            # Without JavaScript the read-only pages are whole: every generated file shown under an index of
            # links (no tabs), no copy buttons, the repository's next step as a plain form.
            plain = await browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
            await plain.add_cookies(await context.cookies())
            plain_page = await plain.new_page()
            await plain_page.goto(repository_url + "/pipeline")
            panels = plain_page.locator(".file-panel")
            assert await panels.count() >= 2
            for index in range(await panels.count()):
                await expect(panels.nth(index)).to_be_visible()
            await expect(plain_page.get_by_role("tab")).to_have_count(0)
            await expect(plain_page.get_by_role("link", name=".github/workflows/ci.yml")).to_be_visible()
            await expect(plain_page.locator("button.copy").first).to_be_hidden()
            await expect(plain_page.locator("#jobs-summary")).to_be_visible()
            await plain_page.goto(repository_url)
            await expect(plain_page.locator("#next-action")).to_be_visible()
            await plain.close()

            # Phone width: nothing wider than the screen.
            await page.set_viewport_size({"width": 375, "height": 800})
            await page.goto(repository_url)
            assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            await shot(page, "15-repository-phone")
            assert not [e for e in errors if "Content Security Policy" in e], errors
            assert inaccessible == []
        except Exception:
            await shot(page, "failure")
            print(stack.logs())
            print("\n".join(inaccessible))
            raise
        finally:
            await browser.close()
