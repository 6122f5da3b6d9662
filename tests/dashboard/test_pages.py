"""The dashboard's pages over HTTP (no browser): access control, CSRF, escaping, error pages, and that each
page shows what the services return."""

from __future__ import annotations

import html
import io
import re
import uuid
import zipfile
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from autodevops.db import Database, tenant_session
from autodevops.models import Job, Organization, Repository
from autodevops.organization import service as organization_service
from platform_support import MakeTenant, add_member

from .conftest import HTML, dashboard_overrides, sign_in

pytestmark = pytest.mark.usefixtures("clean_db")


async def add_repository(database: Database, user_id: uuid.UUID, org_id: uuid.UUID, name: str = "app") -> uuid.UUID:
    async with tenant_session(database, user_id=user_id) as session:
        repo = Repository(
            organization_id=org_id, name=name, source="git", clone_url=f"https://example.com/team/{name}.git"
        )
        session.add(repo)
        await session.flush()
        return repo.id


async def test_signed_out_pages_redirect_to_sign_in_and_home_offers_it(dash_client: httpx.AsyncClient) -> None:
    response = await dash_client.get("/orgs/" + str(uuid.uuid4()) + "/repositories", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in?next=/orgs/")
    home = await dash_client.get("/", headers=HTML)
    assert home.status_code == 200
    assert "autodevops users login-link" in home.text  # neither GitHub nor SSO is configured here
    assert "<script>" not in home.text  # no inline script: the CSP forbids them
    assert "script-src 'self'" in home.headers["content-security-policy"]


async def test_member_walks_the_pages(make_api_client: Any, make_tenant: MakeTenant, database: Database) -> None:
    client = await make_api_client(
        **dashboard_overrides(allow_insecure_git_urls=True, git_private_servers=["127.0.0.1:9"])
    )
    tenant = await make_tenant(organization="Acme")
    browser = await sign_in(client, database, tenant)
    org = tenant.organization_id

    repositories = await browser.get(f"/orgs/{org}/repositories")
    assert repositories.status_code == 200
    assert "No repository is connected to Acme yet" in repositories.text
    assert 'name="csrf_token"' in repositories.text

    connected = await browser.post(f"/orgs/{org}/repositories", {"url": "http://127.0.0.1:9/team/app.git"})
    assert connected.status_code == 303, connected.text
    repo_url = connected.headers["location"]
    assert re.fullmatch(r"/repositories/[0-9a-f-]{36}", repo_url)

    listing = await browser.get(f"/orgs/{org}/repositories")
    assert "never analyzed" in listing.text
    page = await browser.get(repo_url)
    assert "has no successful analysis yet" in page.text

    started = await browser.post(repo_url + "/analyze")
    assert started.status_code == 303
    analysis_url = started.headers["location"]
    run = await browser.get(analysis_url)
    assert run.status_code == 200
    job_id = re.search(r'data-events="/api/v1/jobs/([0-9a-f-]{36})/events"', run.text)
    assert job_id is not None
    assert '<script src="/static/js/progress.js" defer></script>' in run.text

    jobs = await browser.get(f"/orgs/{org}/jobs")
    assert f"/jobs/{job_id.group(1)}" in jobs.text
    assert "The dead-letter queue is empty" in jobs.text  # owners see the DLQ section
    job = await browser.get(f"/jobs/{job_id.group(1)}")
    assert "analysis.run" in job.text

    pipeline = await browser.get(repo_url + "/pipeline")
    assert "No pipeline has been generated" in pipeline.text
    no_zip = await browser.get(repo_url + "/pipeline/download")
    assert no_zip.status_code == 404

    settings = await browser.get(f"/orgs/{org}/settings")
    assert tenant.user.email in settings.text
    title = re.search(r"<title>(.*?)</title>", settings.text, re.S)
    assert title is not None
    assert title.group(1).strip().startswith("Settings · ")
    assert "<" not in title.group(1)  # the owner's Delete section belongs to the page, not its title
    assert settings.text.count('/delete" class="inline"') == 1
    ai = await browser.get(f"/orgs/{org}/ai")
    assert ai.status_code == 200
    assert "Cost this month" in ai.text
    assert '<span id="ai-budget">0 of 200,000</span>' in ai.text  # the free plan's monthly AI tokens

    static = await client.get("/static/js/progress.js")
    assert static.status_code == 200
    assert "EventSource" in static.text
    css = await client.get("/assets/highlight.css")
    assert ".highlight" in css.text


async def test_token_secret_is_shown_once_and_revocation_works(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    browser = await sign_in(dash_client, database, await make_tenant())
    created = await browser.post("/settings/tokens", {"name": "laptop", "expires_in_days": ""})
    assert created.status_code == 200
    secret = re.search(r'value="(adt_[^"]+)"', created.text)
    assert secret is not None
    assert created.headers["cache-control"] == "no-store"
    api = await dash_client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {secret.group(1)}"})
    assert api.status_code == 200
    listing = await browser.get("/settings/tokens")
    assert secret.group(1) not in listing.text
    assert "laptop" in listing.text
    token_id = re.search(
        r'action="/settings/tokens/([0-9a-f-]{36})/revoke"[^>]*>(?:(?!</form>).)*Revoke token laptop',
        listing.text,
        re.S,
    )
    assert token_id is not None
    revoked = await browser.post(f"/settings/tokens/{token_id.group(1)}/revoke")
    assert revoked.status_code == 303
    after = await dash_client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {secret.group(1)}"})
    assert after.status_code == 401


async def test_another_organizations_objects_are_404_pages(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    alice, bob = await make_tenant(organization="Alice Co"), await make_tenant(organization="Bob Co")
    bob_repo = await add_repository(database, bob.user_id, bob.organization_id, "secret-project")
    browser = await sign_in(dash_client, database, alice)
    for url in (
        f"/repositories/{bob_repo}",
        f"/repositories/{bob_repo}/pipeline",
        f"/orgs/{bob.organization_id}/repositories",
        f"/orgs/{bob.organization_id}/settings",
        f"/orgs/{bob.organization_id}/jobs",
        f"/orgs/{bob.organization_id}/ai",
        "/repositories/not-a-uuid",
        "/no/such/page",
    ):
        response = await browser.get(url)
        assert response.status_code == 404, url
        assert response.headers["content-type"].startswith("text/html")
        assert "Not found" in response.text
        assert "secret-project" not in response.text
        assert 'class="switcher"' not in response.text or "Alice Co" in response.text
        # Every error page of a signed-in person keeps the navigation, even an unknown URL or a malformed id.
        assert 'href="/settings/tokens"' in response.text, url
        assert "Sign out" in response.text, url
        assert "Alice Co" in response.text, url
    posted = await browser.post(f"/repositories/{bob_repo}/analyze")
    assert posted.status_code == 404
    # The API keeps answering JSON for the same objects.
    api = await dash_client.get(f"/api/v1/repositories/{bob_repo}", headers=HTML)
    assert api.status_code == 404
    assert api.json()["error"] == "not_found"


async def test_forms_without_the_csrf_token_are_refused(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database, pg_admin: AsyncEngine
) -> None:
    browser = await sign_in(dash_client, database, await make_tenant())
    refused = await browser.post("/orgs", {"name": "Sneaky"}, csrf=False)
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    assert refused.headers["content-type"].startswith("text/html")
    wrong = await browser.client.post("/orgs", data={"name": "Sneaky", "csrf_token": "0" * 64}, headers=HTML)
    assert wrong.status_code == 403
    async with pg_admin.connect() as connection:
        names = (await connection.scalars(select(Organization.name))).all()
    assert "Sneaky" not in names
    accepted = await browser.post("/orgs", {"name": "Fine"})
    assert accepted.status_code == 303


async def test_user_text_is_escaped(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    tenant = await make_tenant(organization=hostile)
    await add_repository(database, tenant.user_id, tenant.organization_id, "<b>bold</b>")
    browser = await sign_in(dash_client, database, tenant)
    for url in ("/orgs", f"/orgs/{tenant.organization_id}/repositories", f"/orgs/{tenant.organization_id}/settings"):
        page = await browser.get(url)
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert "<img src=x" not in page.text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    listing = await browser.get(f"/orgs/{tenant.organization_id}/repositories")
    assert "&lt;b&gt;bold&lt;/b&gt;" in listing.text


async def test_invalid_form_values_are_shown_next_to_the_field_with_what_was_typed(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    browser = await sign_in(dash_client, database, await make_tenant())
    response = await browser.post("/orgs", {"name": "   "})
    assert response.status_code == 422
    assert "Invalid input" not in response.text  # the form's page again, not an error page
    assert re.search(
        r'<p id="org-name-error" class="error field-error" role="alert">The form has invalid values\. name: ',
        response.text,
    )
    assert 'value="   " aria-invalid="true" aria-describedby="org-name-error"' in response.text
    assert "Sign out" in response.text  # the navigation stays


async def test_an_unexpected_error_is_a_500_page_without_internals(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await make_tenant()
    browser = await sign_in(dash_client, database, tenant)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(organization_service, "list_members", broken)
    response = await browser.get(f"/orgs/{tenant.organization_id}/settings")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in response.text
    assert "hunter2" not in response.text
    assert response.headers["x-request-id"] in response.text


async def test_plain_members_see_no_dead_letters_and_cannot_requeue(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database, pg_admin: AsyncEngine
) -> None:
    owner = await make_tenant(organization="Acme")
    member = await make_tenant()
    await add_member(database, owner, member, "member")
    job_id = uuid.uuid4()
    async with pg_admin.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO jobs (id, organization_id, queue, name, payload, state, attempts, max_attempts, "
                "last_error, created_at, updated_at) VALUES (:id, :org, 'sync', 'repository.sync', '{}', "
                "'dead_letter', 3, 3, 'remote hung up <oops>', now(), now())"
            ),
            {"id": job_id, "org": owner.organization_id},
        )
    browser = await sign_in(dash_client, database, member)
    jobs = await browser.get(f"/orgs/{owner.organization_id}/jobs")
    assert "remote hung up &lt;oops&gt;" in jobs.text  # members see errors...
    assert "Dead-letter queue" not in jobs.text  # ...but not the DLQ controls
    refused = await browser.post(f"/jobs/{job_id}/requeue")
    assert refused.status_code == 403
    assert "Only organization owners and admins" in refused.text

    admin = await sign_in(dash_client, database, owner)
    assert "Dead-letter queue" in (await admin.get(f"/orgs/{owner.organization_id}/jobs")).text
    requeued = await admin.post(f"/jobs/{job_id}/requeue")
    assert requeued.status_code == 303
    async with pg_admin.connect() as connection:
        job = (await connection.execute(select(Job.state, Job.attempts).where(Job.id == job_id))).one()
    assert job.state == "pending"
    assert job.attempts == 0

    async with pg_admin.begin() as connection:
        await connection.execute(
            text("UPDATE jobs SET state = 'dead_letter', attempts = 3 WHERE id = :id"), {"id": job_id}
        )
    member_again = await sign_in(dash_client, database, member)
    refused_all = await member_again.post(f"/orgs/{owner.organization_id}/dead-letters/requeue")
    assert refused_all.status_code == 403
    assert "Only organization owners and admins" in refused_all.text
    admin = await sign_in(dash_client, database, owner)
    requeued_all = await admin.post(f"/orgs/{owner.organization_id}/dead-letters/requeue")
    assert requeued_all.status_code == 303
    async with pg_admin.connect() as connection:
        assert (await connection.scalar(select(Job.state).where(Job.id == job_id))) == "pending"


ANALYSIS_RESULT = {
    "stacks": [
        {
            "path": "web",
            "language": "node",
            "package_manager": "pnpm",
            "versions": ["20", "22"],
            "test_tool": "vitest",
            "test_commands": ["pnpm test"],
            "services": ["redis"],
            "provenance": {
                "package_manager": {"evidence": [{"file": "web/pnpm-lock.yaml"}], "confidence": 1.0},
                "versions": {"evidence": [{"file": "web/.nvmrc", "excerpt": "<22>"}], "confidence": 0.9},
            },
        }
    ],
    "languages": [{"name": "TypeScript", "bytes": 1000, "percent": 100.0}],
    "findings": [{"code": "multiple-lockfiles", "severity": "warning", "message": "yarn.lock and <pnpm-lock>"}],
}


async def add_analysis_and_pipeline(
    database: Database, user_id: uuid.UUID, org_id: uuid.UUID, repo_id: uuid.UUID
) -> uuid.UUID:
    from autodevops.models import AIReviewRecord, Analysis, Pipeline

    async with tenant_session(database, user_id=user_id) as session:
        analysis = Analysis(organization_id=org_id, repository_id=repo_id, status="succeeded", result=ANALYSIS_RESULT)
        session.add(analysis)
        await session.flush()
        session.add(
            Pipeline(
                organization_id=org_id,
                repository_id=repo_id,
                analysis_id=analysis.id,
                files=[{"path": ".github/workflows/ci.yml", "content": "name: ci # </pre><script>x()</script>\n"}],
                validation={
                    "valid": False,
                    "problems": [{"tool": "actionlint", "file": "ci.yml", "line": 3, "rule": "", "message": "<bad>"}],
                    "unavailable": ["zizmor"],
                },
            )
        )
        session.add(
            AIReviewRecord(
                organization_id=org_id,
                analysis_id=analysis.id,
                status="applied",
                entry="openai:fake-model",
                prompt_version="test",
                summary="A <i>TypeScript</i> web app.",
                risks=[{"severity": "medium", "message": "Two lockfiles."}],
                recommendations=["Keep pnpm only."],
                accepted=[
                    {"stack": "web", "field": "test_tool", "value": ["vitest"], "justification": "vitest.config.ts"}
                ],
            )
        )
        return analysis.id


async def test_repository_analysis_and_pipeline_pages_show_the_stored_results(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    tenant = await make_tenant()
    repo_id = await add_repository(database, tenant.user_id, tenant.organization_id)
    analysis_id = await add_analysis_and_pipeline(database, tenant.user_id, tenant.organization_id, repo_id)
    browser = await sign_in(dash_client, database, tenant)

    page = (await browser.get(f"/repositories/{repo_id}")).text
    for expected in ("<code>web</code> · node · pnpm", "20, 22", "pnpm test", "redis", "web/pnpm-lock.yaml"):
        assert expected in page
    assert "&lt;22&gt;" in page  # evidence excerpts are escaped
    assert "yarn.lock and &lt;pnpm-lock&gt;" in page
    assert "TypeScript" in page
    assert "A &lt;i&gt;TypeScript&lt;/i&gt; web app." in page  # the model's words are escaped like any text
    assert "Two lockfiles." in page
    assert "applied: <code>web</code> test_tool → vitest" in page
    fragment = await browser.get(f"/analyses/{analysis_id}/result")
    assert "<html" not in fragment.text
    assert "multiple-lockfiles" in fragment.text

    pipeline = await browser.get(f"/repositories/{repo_id}/pipeline")
    assert pipeline.status_code == 200
    assert '<div class="highlight">' in pipeline.text
    assert '<td class="linenos">' in pipeline.text  # line numbers in a column of their own
    assert re.search(r'<button type="button" class="copy" data-copy="file-1" hidden>Copy [^<]+</button>', pipeline.text)
    assert '<div class="code" id="file-1" tabindex="0" role="region"' in pipeline.text
    assert "<script>x()" not in pipeline.text
    assert "&lt;/pre&gt;&lt;script&gt;" in pipeline.text
    assert "&lt;bad&gt;" in pipeline.text
    assert "Not run here: zizmor" in pipeline.text
    assert "Line-by-line changes need a repository connected through GitHub" in pipeline.text
    assert "Open pull request" not in pipeline.text  # only GitHub repositories get pull requests

    archive = await browser.get(f"/repositories/{repo_id}/pipeline/download")
    assert archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as files:
        assert files.read(".github/workflows/ci.yml").startswith(b"name: ci")


async def test_sign_out_ends_the_session(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    browser = await sign_in(dash_client, database, await make_tenant())
    page = await browser.get("/orgs")
    assert 'action="/auth/logout"' in page.text
    cookie = dict(dash_client.cookies)
    signed_out = await browser.post("/auth/logout")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/"
    for name, value in cookie.items():  # the old cookie, replayed, is revoked server-side
        dash_client.cookies.set(name, value)
    again = await browser.get("/orgs")
    assert again.status_code == 303
    assert again.headers["location"].startswith("/sign-in")


async def test_managers_add_members_change_roles_and_rename(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    owner = await make_tenant(organization="Acme")
    colleague = await make_tenant()
    browser = await sign_in(dash_client, database, owner)
    org = owner.organization_id
    invited = await browser.post(f"/orgs/{org}/invitations", {"email": colleague.user.email, "role": "member"})
    assert invited.status_code == 200
    link = re.search(r'id="invitation-link" class="secret" readonly value="([^"]+)"', invited.text)
    assert link is not None
    assert colleague.user.email in invited.text  # listed as pending
    # The colleague follows the link, sees what it is for, and accepts.
    url = urlsplit(html.unescape(link.group(1)))
    guest = await sign_in(dash_client, database, colleague)  # the client's cookie is now the colleague's
    landing = await guest.get(f"{url.path}?{url.query}")
    assert landing.status_code == 200
    assert "Accept the invitation" in landing.text
    joined = await guest.post("/invitations/accept", {"token": parse_qs(url.query)["token"][0]})
    assert joined.status_code == 303
    assert joined.headers["location"] == f"/orgs/{org}/repositories"
    browser = await sign_in(dash_client, database, owner)
    promoted = await browser.post(f"/orgs/{org}/members/{colleague.user_id}/role", {"role": "admin"})
    assert promoted.status_code == 303
    renamed = await browser.post(f"/orgs/{org}/rename", {"name": "Acme Labs"})
    assert renamed.status_code == 303
    page = await browser.get(f"/orgs/{org}/settings")
    assert "Acme Labs" in page.text
    assert re.search(rf'id="role-{colleague.user_id}".*?<option value="admin" selected>', page.text, re.S)

    member = await sign_in(dash_client, database, colleague)
    # Admins manage members but may not delete the organization: the service says so, as a 403 page.
    refused = await member.post(f"/orgs/{org}/delete")
    assert refused.status_code == 403
    assert "only owners may delete" in refused.text


async def test_a_failed_job_reads_as_words_with_cause_fix_and_the_raw_error_folded(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database, pg_admin: AsyncEngine
) -> None:
    owner = await make_tenant(organization="Acme")
    repository_id = await add_repository(database, owner.user_id, owner.organization_id, name="api")
    job_id = uuid.uuid4()
    raw = "ChildFailed: GitHub answered 403 while trying to resolve 'main' in acme/api: Resource not accessible"
    async with pg_admin.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO jobs (id, organization_id, queue, name, payload, state, attempts, max_attempts, "
                "last_error, created_at, updated_at) VALUES (:id, :org, 'analysis', 'analysis.run', "
                "jsonb_build_object('repository_id', CAST(:repo AS text)), 'dead_letter', 3, 3, :raw, "
                "now() - interval '5 minutes', now())"
            ),
            {"id": job_id, "org": owner.organization_id, "repo": str(repository_id), "raw": raw},
        )
    browser = await sign_in(dash_client, database, owner)
    listing = (await browser.get(f"/orgs/{owner.organization_id}/jobs")).text
    assert f'<a href="/jobs/{job_id}">Analysis of api</a>' in listing
    assert '<td data-label="Type">Analysis</td>' in listing
    assert '<td data-label="Repository">api</td>' in listing
    assert ">Dead letter</span>" in listing
    assert ">5 min ago</time>" in listing

    page = (await browser.get(f"/jobs/{job_id}")).text
    assert "<h1>Analysis of api" in page
    assert "GitHub refused access to the repository." in page
    assert "Check that the GitHub App is still installed" in page
    # The raw error is there, folded, without the worker's exception class.
    assert "<details><summary>Raw error</summary>" in page
    assert "GitHub answered 403 while trying to resolve &#39;main&#39;" in page
    assert "ChildFailed" not in page
