"""The dashboard leads to the next step: the repository header card and its one primary action, generation
progress and the jobs summary on the pipeline page, over HTTP against the real app (no browser)."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from autodevops.db import Database, tenant_session
from autodevops.models import Analysis, Pipeline, Repository
from autodevops.models.github import GitHubPullRequest
from autodevops.pipeline.summary import summarize
from autodevops.repository.header import decide, stack_chips
from platform_support import MakeTenant, add_member

from .conftest import sign_in
from .test_pages import ANALYSIS_RESULT, add_repository

pytestmark = pytest.mark.usefixtures("clean_db")

WORKFLOW = """\
name: CI
on: [push, pull_request]
jobs:
  lint:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - run: ruff check
  test:
    name: Tests on ${{ matrix.os }}
    runs-on: ${{ matrix.os }}
    strategy:
      matrix:
        os: [ubuntu-24.04, macos-14]
        python: ["3.12", "3.13"]
        exclude:
          - os: macos-14
            python: "3.12"
    steps:
      - uses: actions/checkout@v4
      - run: pytest
"""
GITLAB_CI = """\
stages: [test]
variables:
  PIP_CACHE_DIR: .cache
.base:
  image: python:3.13
test:
  stage: test
  parallel:
    matrix:
      - PYTHON: ["3.12", "3.13"]
  script:
    - pip install .
    - pytest
"""


def primaries(page: str) -> list[str]:
    """The page's primary buttons and links (one per page is the rule)."""
    return re.findall(r'class="(?:button )?primary"[^>]*>([^<]+)<', page)


async def set_analysis(database: Database, user_id: uuid.UUID, org_id: uuid.UUID, repo_id: uuid.UUID, status: str):
    async with tenant_session(database, user_id=user_id) as session:
        analysis = Analysis(
            organization_id=org_id,
            repository_id=repo_id,
            status=status,
            commit_sha="abc123def4567890" if status == "succeeded" else None,
            result=ANALYSIS_RESULT if status == "succeeded" else None,
        )
        session.add(analysis)
        await session.flush()
        return analysis.id


def test_stack_chips_name_each_stack_with_its_package_manager() -> None:
    chips = stack_chips({"stacks": [{"path": "web", "language": "node", "package_manager": "pnpm"}, "junk"]})
    assert [(c.label, c.path) for c in chips] == [("node · pnpm", "web")]
    assert stack_chips(None) == []


def test_the_next_step_of_a_github_repository_is_the_pull_request_then_the_open_one() -> None:
    repository = Repository(id=uuid.uuid4(), name="app", source="github", clone_url="https://github.com/a/app.git")
    analysis = Analysis(id=uuid.uuid4(), status="succeeded")
    pipeline = Pipeline(id=uuid.uuid4(), analysis_id=analysis.id, files=[])
    common = {"latest": analysis, "succeeded": analysis, "pipeline": pipeline, "generation": None}
    _state, status, action, busy = decide(repository, **common, open_request=None, can_manage=True)
    assert (status, action.label, action.post, busy) == ("Pipeline ready", "Open pull request", True, False)
    assert action.url == f"/repositories/{repository.id}/pull-request"
    # A plain member cannot open one: the pipeline is the next thing to look at.
    assert decide(repository, **common, open_request=None, can_manage=False)[2].label == "View pipeline"
    opened = decide(repository, **common, open_request=("pull request #12", "https://x/pull/12"), can_manage=True)
    assert (opened[1], opened[2].label, opened[2].url) == (
        "pull request #12 open",
        "View pull request #12",
        "https://x/pull/12",
    )
    # A newer analysis than the pipeline's: generate again.
    newer = Analysis(id=uuid.uuid4(), status="succeeded")
    again = decide(repository, **{**common, "latest": newer, "succeeded": newer}, open_request=None, can_manage=True)
    assert again[2].label == "Generate pipeline"
    gitlab = Repository(id=uuid.uuid4(), name="app", source="gitlab", clone_url="https://gitlab.com/a/app.git")
    assert decide(gitlab, **common, open_request=None, can_manage=True)[2].label == "Open merge request"


async def test_the_header_card_has_one_primary_action_that_follows_the_state(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database, pg_admin: AsyncEngine
) -> None:
    tenant = await make_tenant()
    org = tenant.organization_id
    repo_id = await add_repository(database, tenant.user_id, org)
    browser = await sign_in(dash_client, database, tenant)
    url = f"/repositories/{repo_id}"

    fresh = (await browser.get(url)).text
    assert 'id="repo-header"' in fresh
    assert "Not analyzed yet" in fresh
    assert primaries(fresh) == ["Analyze"]
    assert f'action="{url}/analyze"' in fresh
    assert "hx-trigger" not in fresh  # nothing runs: the card does not refresh itself
    # The page's one live region stays put across refreshes of the card (a swapped-in region is not announced).
    assert '<p id="repo-status-live" class="visually-hidden" role="status" aria-live="polite"></p>' in fresh
    assert 'role="status">Not analyzed yet' not in fresh

    analysis_id = await set_analysis(database, tenant.user_id, org, repo_id, "running")
    running = (await browser.get(url)).text
    assert "Analyzing" in running
    assert primaries(running) == ["Follow the analysis"]
    assert f'href="/analyses/{analysis_id}"' in running
    assert f'hx-get="{url}/header" hx-trigger="every 2s" hx-swap="outerHTML"' in running
    assert 'hx-trigger="repository-updated from:body" hx-select="#repo-analysis"' in running
    card = await browser.client.get(f"{url}/header", headers={"Accept": "text/html", "HX-Request": "true"})
    assert card.status_code == 200
    assert "HX-Trigger" not in card.headers  # still running
    assert "<html" not in card.text
    assert 'hx-trigger="every 2s"' in card.text
    assert "repo-status-live" not in card.text  # nothing to announce while it runs

    # The analysis finishes: the card the page fetches next offers the pipeline and stops refreshing.
    async with pg_admin.begin() as connection:
        await connection.execute(
            update(Analysis)
            .where(Analysis.id == analysis_id)
            .values(status="succeeded", result=ANALYSIS_RESULT, commit_sha="0123456789abcdef")
            .values(finished_at=text("now()"))
        )
    done = await browser.client.get(f"{url}/header", headers={"Accept": "text/html", "HX-Request": "true"})
    assert "hx-trigger" not in done.text
    assert done.headers["HX-Trigger"] == "repository-updated"  # the page's analysis section refreshes too
    assert '<p id="repo-status-live" hx-swap-oob="innerHTML">Analyzed</p>' in done.text  # said to screen readers
    assert primaries(done.text) == ["Generate pipeline"]
    assert f'action="{url}/pipeline/generate"' in done.text
    assert "<code>0123456789ab</code>" in done.text  # the last commit analyzed
    assert '<li class="tag" title="in web">node · pnpm <span class="muted">web</span></li>' in done.text
    page = (await browser.get(url)).text
    assert primaries(page) == ["Generate pipeline"]
    assert "Analyze again" in page  # still possible, as a secondary action

    # A generation is queued: the card follows it on the pipeline page.
    async with pg_admin.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO jobs (id, organization_id, queue, name, payload, state, attempts, max_attempts, "
                "created_at, updated_at) VALUES (:id, :org, 'ci-generation', 'pipeline.generate', "
                "CAST(:payload AS jsonb), 'pending', 0, 3, now(), now())"
            ),
            {"id": uuid.uuid4(), "org": org, "payload": f'{{"repository_id": "{repo_id}"}}'},
        )
    generating = (await browser.get(f"{url}/header")).text
    assert "Generating the pipeline" in generating
    assert primaries(generating) == ["Follow the generation"]
    assert 'hx-trigger="every 2s"' in generating
    async with pg_admin.begin() as connection:
        await connection.execute(text("UPDATE jobs SET state = 'completed', finished_at = now()"))
        await connection.execute(
            text(
                "INSERT INTO pipelines (id, organization_id, repository_id, analysis_id, files, created_at) "
                "VALUES (:id, :org, :repo, :analysis, '[]', now())"
            ),
            {"id": uuid.uuid4(), "org": org, "repo": repo_id, "analysis": analysis_id},
        )
    ready = (await browser.get(url)).text
    assert "Pipeline ready" in ready
    assert primaries(ready) == ["View pipeline"]  # a git URL: no pull request to open


async def test_an_open_pull_request_is_the_next_thing_to_look_at(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    tenant = await make_tenant()
    org = tenant.organization_id
    async with tenant_session(database, user_id=tenant.user_id) as session:
        repository = Repository(
            organization_id=org,
            name="app",
            source="github",
            github_full_name="acme/app",
            clone_url="https://github.com/acme/app.git",
        )
        session.add(repository)
        await session.flush()
        analysis = Analysis(organization_id=org, repository_id=repository.id, status="succeeded", result={})
        session.add(analysis)
        await session.flush()
        pipeline = Pipeline(organization_id=org, repository_id=repository.id, analysis_id=analysis.id, files=[])
        session.add(pipeline)
        await session.flush()
        repo_id, pipeline_id = repository.id, pipeline.id
    browser = await sign_in(dash_client, database, tenant)
    assert primaries((await browser.get(f"/repositories/{repo_id}")).text) == ["Open pull request"]
    async with tenant_session(database, user_id=tenant.user_id) as session:
        session.add(
            GitHubPullRequest(
                organization_id=org,
                repository_id=repo_id,
                pipeline_id=pipeline_id,
                full_name="acme/app",
                number=12,
                url="https://github.com/acme/app/pull/12",
                head_branch="autodevops/ci",
                head_sha="f" * 40,
            )
        )
    pipeline_page = (await browser.get(f"/repositories/{repo_id}/pipeline")).text
    assert primaries(pipeline_page) == []  # nothing left to do there: pressing again only updates it
    assert "Update the pull request" in pipeline_page
    page = (await browser.get(f"/repositories/{repo_id}")).text
    assert "pull request #12 open" in page
    assert primaries(page) == ["View pull request #12"]
    assert 'href="https://github.com/acme/app/pull/12"' in page


def test_the_summary_lists_jobs_runners_and_matrix_runs() -> None:
    jobs = summarize(
        [
            {"path": ".github/workflows/ci.yml", "content": WORKFLOW},
            {"path": ".github/dependabot.yml", "content": "version: 2\n"},
            {"path": ".gitlab-ci.yml", "content": GITLAB_CI},
            {"path": ".github/workflows/broken.yml", "content": "jobs: [\n"},
        ]
    )
    assert [(j.file, j.id, j.name, j.runs_on, j.steps, j.combinations) for j in jobs] == [
        (".github/workflows/ci.yml", "lint", "lint", "ubuntu-24.04", 2, 1),
        (".github/workflows/ci.yml", "test", "Tests on os", "os", 2, 3),  # 2 × 2, one excluded
        (".gitlab-ci.yml", "test", "test", "stage test", 2, 2),
    ]
    assert [(a.name, a.values) for a in jobs[1].axes] == [
        ("os", ["ubuntu-24.04", "macos-14"]),
        ("python", ["3.12", "3.13"]),
    ]
    assert [(a.name, a.values) for a in jobs[2].axes] == [("PYTHON", ["3.12", "3.13"])]


async def test_the_pipeline_page_shows_generation_progress_tabs_jobs_and_the_git_url_comparison(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database, pg_admin: AsyncEngine
) -> None:
    tenant = await make_tenant()
    org = tenant.organization_id
    repo_id = await add_repository(database, tenant.user_id, org)
    async with tenant_session(database, user_id=tenant.user_id) as session:
        analysis = Analysis(
            organization_id=org,
            repository_id=repo_id,
            status="succeeded",
            result={
                "stacks": [],
                "existing_ci": [
                    {"provider": "github-actions", "path": ".github/workflows/ci.yml"},
                    {"provider": "travis", "path": ".travis.yml"},
                ],
            },
        )
        session.add(analysis)
        await session.flush()
        analysis_id = analysis.id
    browser = await sign_in(dash_client, database, tenant)
    url = f"/repositories/{repo_id}/pipeline"

    generate = await browser.post(f"{url}/generate")
    assert generate.status_code == 303
    assert generate.headers["location"] == url  # generation is followed on the pipeline page itself
    async with pg_admin.connect() as connection:
        job_id = await connection.scalar(text("SELECT id FROM jobs WHERE name = 'pipeline.generate'"))
    generating = (await browser.get(url)).text
    assert f'data-events="/api/v1/jobs/{job_id}/events"' in generating
    assert f'data-result="{url}/result"' in generating
    assert '<li data-step="generating"' in generating
    assert '<script src="/static/js/progress.js" defer></script>' in generating

    async with pg_admin.begin() as connection:
        await connection.execute(text("UPDATE jobs SET state = 'completed', finished_at = now()"))
        await connection.execute(
            text(
                "INSERT INTO pipelines (id, organization_id, repository_id, analysis_id, files, created_at) "
                "VALUES (:id, :org, :repo, :analysis, CAST(:files AS jsonb), now())"
            ),
            {
                "id": uuid.uuid4(),
                "org": org,
                "repo": repo_id,
                "analysis": analysis_id,
                "files": json.dumps(
                    [
                        {"path": ".github/workflows/ci.yml", "content": WORKFLOW},
                        {"path": ".github/dependabot.yml", "content": "version: 2\n"},
                    ]
                ),
            },
        )
    body = await browser.get(f"{url}/result")
    assert body.status_code == 200
    assert "<html" not in body.text
    page = (await browser.get(url)).text
    assert 'id="progress"' not in page  # done: the page is the pipeline
    for fragment in (body.text, page):
        assert '<ul class="file-tabs" data-tabs aria-label="Generated files">' in fragment
        assert '<a href="#file-panel-1" id="file-tab-1">.github/workflows/ci.yml</a>' in fragment
        assert '<section class="file-panel" id="file-panel-2" aria-labelledby="file-title-2">' in fragment
        assert "2 jobs, 4 runs per push or merge request." in fragment
        assert "os: ubuntu-24.04, macos-14" in fragment
        assert "(3 runs)" in fragment
        # A git URL: the analysis's list of CI files says what is new and what would be replaced.
        assert "<code>.github/dependabot.yml</code> — new file" in fragment
        assert "<code>.github/workflows/ci.yml</code> — the repository has this file; it would be replaced" in fragment
        assert "<code>.travis.yml</code> — the repository&#39;s, not generated: it stays" in fragment


def _sse_events(body: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events


async def test_after_a_requeue_the_job_page_and_its_events_are_the_new_run_with_server_times(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database, pg_admin: AsyncEngine
) -> None:
    owner = await make_tenant(organization="Acme")
    job_id = uuid.uuid4()
    async with pg_admin.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO jobs (id, organization_id, queue, name, payload, state, attempts, max_attempts, "
                "last_error, created_at, updated_at, finished_at) VALUES (:id, :org, 'sync', 'repository.sync', "
                "'{}', 'dead_letter', 3, 3, 'ChildFailed: remote hung up', now(), now(), now())"
            ),
            {"id": job_id, "org": owner.organization_id},
        )
    runtime: Any = dash_client._transport.app.state.jobs_runtime  # type: ignore[attr-defined]
    for stage, data in (("queued", {}), ("active", {"attempt": 3}), ("failed", {"error": "remote hung up"})):
        await runtime.bus.publish(str(job_id), stage, **data)
    browser = await sign_in(dash_client, database, owner)
    dead = (await browser.get(f"/jobs/{job_id}")).text
    assert '<p id="progress-error" class="error">remote hung up</p>' in dead

    requeued = await browser.post(f"/jobs/{job_id}/requeue")
    assert requeued.status_code == 303
    page = (await browser.get(f"/jobs/{job_id}")).text
    assert '<p id="progress-error" class="error" hidden>' in page  # the old run's error is history
    assert ">Queued</span></h1>" in page
    assert "<dt>Attempts</dt><dd>0 of 3</dd>" in page
    assert "What went wrong" not in page

    # The new run (as the worker reports it); the stream starts at the requeue, without the old `failed`.
    for _ in range(50):
        if any(e.stage == "queued" and e.data.get("requeued") for e in await runtime.bus.read(str(job_id))):
            break
        await asyncio.sleep(0.05)
    await runtime.bus.publish(str(job_id), "active", attempt=1)
    await runtime.bus.publish(str(job_id), "done", percent=100)
    stream = await dash_client.get(f"/api/v1/jobs/{job_id}/events", headers=owner.headers)
    events = _sse_events(stream.text)
    assert [(stage, data.get("requeued")) for stage, data in events] == [
        ("queued", True),
        ("active", None),
        ("done", None),
    ]
    ids = re.findall(r"^id: (\d+)-\d+$", stream.text, re.M)
    for (_stage, data), millis in zip(events, ids, strict=True):
        # `at` is when Redis stored the event: its entry id's milliseconds, not the time it was read.
        stored = datetime.fromtimestamp(int(millis) / 1000, UTC)
        assert datetime.fromisoformat(data["at"].replace("Z", "+00:00")) == stored
    # With Last-Event-ID the client resumes exactly where it was, old run or not.
    resumed = await dash_client.get(f"/api/v1/jobs/{job_id}/events", headers={**owner.headers, "Last-Event-ID": "0-0"})
    assert [stage for stage, _ in _sse_events(resumed.text)][:3] == ["queued", "active", "failed"]


async def test_forms_answer_next_to_the_field_and_actions_are_confirmed_once(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    owner = await make_tenant(organization="Acme")
    admin = await make_tenant()
    await add_member(database, owner, admin, "admin")
    org = owner.organization_id
    browser = await sign_in(dash_client, database, owner)
    settings_url = f"/orgs/{org}/settings"

    # A mistake in the invitation form: the settings page again, the reason by the field, the address kept.
    bad = await browser.post(f"/orgs/{org}/invitations", {"email": "sam@@example", "role": "admin"})
    assert bad.status_code == 422
    assert '<p id="member-email-error" class="error field-error" role="alert">' in bad.text
    assert 'value="sam@@example" aria-invalid="true" aria-describedby="member-email-error"' in bad.text
    assert '<option value="admin" selected>admin</option>' in bad.text
    assert 'aria-current="true">Settings</a>' in bad.text  # the navigation, with the current section marked

    invited = await browser.post(f"/orgs/{org}/invitations", {"email": "sam@example.com", "role": "member"})
    assert invited.status_code == 200
    assert '<p class="notice confirmation" id="notice" role="status">sam@example.com invited as member.' in invited.text
    pending = re.search(r'<table id="pending-invitations">.*?</table>', invited.text, re.S)
    assert pending is not None
    assert "sam@example.com" in pending.group(0)
    assert '<span class="status status-pending">pending</span>' in pending.group(0)
    members = re.search(r"<caption[^>]*>Members and their roles</caption>.*?</table>", invited.text, re.S)
    assert members is not None
    assert "sam@example.com" not in members.group(0)  # not a member until accepted

    # Your own row has no Remove (leaving is its own section); the role saves in one step with JavaScript.
    page = (await browser.get(settings_url)).text
    assert f'action="/orgs/{org}/members/{owner.user_id}/remove" class="inline">\n      ' not in page
    assert 'aria-label="Remove ' + admin.user.email + '"' in page
    assert f'<select id="role-{admin.user_id}" name="role" data-autosubmit>' in page
    assert page.count(f"/members/{owner.user_id}/remove") == 1  # the Leave section's form only

    changed = await browser.post(f"/orgs/{org}/members/{admin.user_id}/role", {"role": "member"})
    assert changed.status_code == 303
    assert "autodevops_notice" in changed.headers["set-cookie"]
    shown = await browser.get(changed.headers["location"])
    assert f"{admin.user.name or admin.user.email} is now member." in shown.text
    assert "autodevops_notice=" in shown.headers["set-cookie"]  # used up: deleted by the page that showed it
    again = await browser.get(settings_url)
    assert 'id="notice"' not in again.text
    # A notice cookie not signed by the server is ignored.
    dash_client.cookies.set("autodevops_notice", "SGFja2Vk.0000")
    assert "Hacked" not in (await browser.get(settings_url)).text
    dash_client.cookies.delete("autodevops_notice")

    # An admin may not invite an owner: said next to the form, not as a 403 page.
    other_admin = await make_tenant()
    await add_member(database, owner, other_admin, "admin")
    as_admin = await sign_in(dash_client, database, other_admin)
    refused = await as_admin.post(f"/orgs/{org}/invitations", {"email": "boss@example.com", "role": "owner"})
    assert refused.status_code in (403, 422)
    assert '<p id="member-email-error" class="error field-error" role="alert">' in refused.text
    assert 'value="boss@example.com"' in refused.text


async def test_tokens_page_copies_the_new_token_and_keeps_a_mistyped_name(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    browser = await sign_in(dash_client, database, await make_tenant())
    bad = await browser.post("/settings/tokens", {"name": "x" * 101, "expires_in_days": "7"})
    assert bad.status_code == 422
    assert '<p id="token-name-error" class="error field-error" role="alert">' in bad.text
    assert f'value="{"x" * 101}" aria-invalid="true"' in bad.text
    assert 'name="expires_in_days" type="number" min="1" max="3650" inputmode="numeric" value="7"' in bad.text
    created = await browser.post("/settings/tokens", {"name": "ci", "expires_in_days": ""})
    assert '<button type="button" class="copy" data-copy="new-token" hidden>Copy the token</button>' in created.text
    token_id = re.search(r'action="/settings/tokens/([0-9a-f-]{36})/revoke"', created.text)
    assert token_id is not None
    revoked = await browser.post(f"/settings/tokens/{token_id.group(1)}/revoke")
    assert "Token ci revoked." in (await browser.get(revoked.headers["location"])).text


async def test_pages_inside_a_section_mark_it_in_the_navigation(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    tenant = await make_tenant()
    repo_id = await add_repository(database, tenant.user_id, tenant.organization_id)
    browser = await sign_in(dash_client, database, tenant)
    org = tenant.organization_id
    listing = (await browser.get(f"/orgs/{org}/repositories")).text
    assert f'<a href="/orgs/{org}/repositories" aria-current="page">Repositories</a>' in listing
    for url in (f"/repositories/{repo_id}", f"/repositories/{repo_id}/pipeline"):
        page = (await browser.get(url)).text
        assert f'<a href="/orgs/{org}/repositories" aria-current="true">Repositories</a>' in page, url
        assert 'aria-current="page"' not in page, url  # a page inside the section, not the list itself
    connected = await browser.post(f"/orgs/{org}/repositories", {"url": "not a url"})
    assert connected.status_code == 422
    assert '<p id="repo-url-error" class="error" role="alert">' in connected.text
    assert 'value="not a url"' in connected.text


async def test_a_pipeline_older_than_the_latest_analysis_asks_to_be_regenerated(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    tenant = await make_tenant()
    org = tenant.organization_id
    async with tenant_session(database, user_id=tenant.user_id) as session:
        repository = Repository(
            organization_id=org,
            name="app",
            source="github",
            github_full_name="acme/app",
            clone_url="https://github.com/acme/app.git",
        )
        session.add(repository)
        await session.flush()
        analysis = Analysis(organization_id=org, repository_id=repository.id, status="succeeded", result={})
        session.add(analysis)
        await session.flush()
        session.add(Pipeline(organization_id=org, repository_id=repository.id, analysis_id=analysis.id, files=[]))
        repo_id = repository.id
    browser = await sign_in(dash_client, database, tenant)
    url = f"/repositories/{repo_id}/pipeline"
    assert primaries((await browser.get(url)).text) == ["Open pull request"]
    await set_analysis(database, tenant.user_id, org, repo_id, "succeeded")
    page = (await browser.get(url)).text
    assert primaries(page) == ["Regenerate"]
    assert "analyzed again since this pipeline was generated" in page
    assert primaries((await browser.get(f"/repositories/{repo_id}")).text) == ["Generate pipeline"]


async def test_a_refused_single_sign_on_form_keeps_what_was_typed_but_never_the_secret(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    owner = await make_tenant(organization="Acme")
    browser = await sign_in(dash_client, database, owner)
    refused = await browser.post(
        f"/orgs/{owner.organization_id}/sso",
        {
            "slug": "acme",
            "issuer": "ftp://idp.example.com",
            "client_id": "client-1",
            "client_secret": "s3cret-value",
            "allowed_domains": "acme.example",
            "default_role": "admin",
            "allow_personal_tokens": "on",
        },
    )
    assert refused.status_code == 422
    assert '<p id="sso-slug-error" class="error field-error" role="alert">' in refused.text
    for kept in ('value="acme"', 'value="ftp://idp.example.com"', 'value="client-1"', 'value="acme.example"'):
        assert kept in refused.text
    assert '<option value="admin" selected>admin</option>' in refused.text
    assert '<input type="checkbox" name="allow_personal_tokens" checked>' in refused.text
    assert "invalid issuer URL" in refused.text
    assert '<input type="checkbox" name="jit_provisioning">' in refused.text  # unchecked as sent
    assert "s3cret-value" not in refused.text


async def test_an_invitation_link_that_no_longer_works_says_so_on_its_page(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    browser = await sign_in(dash_client, database, await make_tenant())
    token = "adi_" + "x" * 43  # well formed, but no invitation has it
    refused = await browser.post("/invitations/accept", {"token": token})
    assert refused.status_code == 404
    assert '<p id="accept-error" class="error field-error" role="alert">invitation not found' in refused.text
    assert f'name="token" value="{token}"' in refused.text
    assert "Sign out" in refused.text


async def test_the_last_owner_cannot_step_down_and_is_told_above_the_members(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    owner = await make_tenant(organization="Acme")
    browser = await sign_in(dash_client, database, owner)
    org = owner.organization_id
    for refused in (
        await browser.post(f"/orgs/{org}/members/{owner.user_id}/role", {"role": "member"}),
        await browser.post(f"/orgs/{org}/members/{owner.user_id}/remove"),
    ):
        assert refused.status_code == 409
        assert '<p id="members-error" class="error field-error" role="alert">' in refused.text
        assert "at least one owner" in refused.text
        assert "Plan and usage" in refused.text  # the settings page itself, not an error page


async def test_no_page_has_more_than_one_primary_action(
    dash_client: httpx.AsyncClient, make_tenant: MakeTenant, database: Database
) -> None:
    tenant = await make_tenant()
    org = tenant.organization_id
    repo_id = await add_repository(database, tenant.user_id, org)
    analysis_id = await set_analysis(database, tenant.user_id, org, repo_id, "succeeded")
    browser = await sign_in(dash_client, database, tenant)
    for url in (
        "/orgs",
        f"/orgs/{org}/repositories",
        f"/repositories/{repo_id}",
        f"/analyses/{analysis_id}",
        f"/repositories/{repo_id}/pipeline",
        f"/orgs/{org}/jobs",
        f"/orgs/{org}/ai",
        f"/orgs/{org}/settings",
        "/settings/tokens",
        "/invitations",
    ):
        page = await browser.get(url)
        assert page.status_code == 200, url
        assert len(primaries(page.text)) <= 1, (url, primaries(page.text))
