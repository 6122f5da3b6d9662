"""The GitHub edge against the fake GitHub: repository source, rate limits, pull requests, OAuth exchange."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from autodevops.engine.source import RepoSource, SourceError
from autodevops.github.client import PR_BRANCH, GitHubClient, GitHubError, GitHubNotFound, GitHubRateLimited
from autodevops.github.source import GitHubSource
from autodevops.models import GitHubRepositoryLink
from autodevops.repository import tasks as repository_tasks

from .conftest import settings_for
from .fake_github import FakeGitHub

FILES = {
    "package.json": '{"name": "app", "scripts": {"test": "vitest"}}',
    "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
    "src/index.ts": "export const x = 1;\n",
    "node_modules/left-pad/package.json": "{}",
    "docs/guide.md": "# guide\n",
}


def _seed(fake: FakeGitHub) -> int:
    user = fake.add_user("octo")
    iid = fake.add_installation("octo", users=[user])
    fake.add_repo(iid, "octo", "app", FILES)
    return iid


def test_source_lists_the_tree_and_reads_only_requested_files(
    fake_github: FakeGitHub, github_client: GitHubClient
) -> None:
    iid = _seed(fake_github)
    source = GitHubSource(github_client, iid, "octo", "app")
    assert isinstance(source, RepoSource)
    files = {f.path: f.size for f in source.files()}
    # dependency directories are skipped like a local walk skips them
    assert files == {p: len(c) for p, c in FILES.items() if not p.startswith("node_modules/")}
    assert source.ref == "main"
    assert fake_github.count("GET", "/repos/octo/app/git/trees/") == 1

    assert source.read_bytes("package.json", 1_000) == FILES["package.json"].encode()
    assert source.read_bytes("package.json", 6) == b'{"name'  # served from the cache, trimmed to the limit
    assert fake_github.count("GET", "/repos/octo/app/contents/") == 1
    assert source.reads == 1
    with pytest.raises(ValueError, match="not a file"):
        source.read_bytes("../etc/passwd", 10)


def test_source_is_pinned_to_one_commit(fake_github: FakeGitHub, github_client: GitHubClient) -> None:
    iid = _seed(fake_github)
    source = GitHubSource(github_client, iid, "octo", "app")
    source.files()
    fake_github.push("octo/app", "main", {"package.json": '{"name": "changed"}'})
    assert b"changed" not in source.read_bytes("package.json", 1_000)


def test_source_walks_subtrees_when_github_truncates(fake_github: FakeGitHub, github_client: GitHubClient) -> None:
    iid = _seed(fake_github)
    fake_github.truncate_recursive_trees = True
    source = GitHubSource(github_client, iid, "octo", "app")
    assert {f.path for f in source.files()} == {p for p in FILES if not p.startswith("node_modules/")}


def test_source_errors_are_clear(fake_github: FakeGitHub, github_client: GitHubClient) -> None:
    iid = _seed(fake_github)
    with pytest.raises(SourceError, match="not found"):
        GitHubSource(github_client, iid, "octo", "missing").files()
    with pytest.raises(Exception, match="not a GitHub repository name"):
        GitHubSource(github_client, iid, "octo", "../x")


def test_rate_limit_that_resets_soon_is_waited_out(fake_github: FakeGitHub, github_client: GitHubClient) -> None:
    iid = _seed(fake_github)
    fake_github.rate_limit("/repos/octo/app/git/trees/", status=403, reset_in=1)
    fake_github.rate_limit("/repos/octo/app/contents/", status=429, reset_in=1)
    source = GitHubSource(github_client, iid, "octo", "app")
    assert len(source.files()) == 4
    assert source.read_bytes("src/index.ts", 100) == FILES["src/index.ts"].encode()
    assert fake_github.count("GET", "/repos/octo/app/git/trees/") == 2  # refused once, then retried
    assert fake_github.count("GET", "/repos/octo/app/contents/") == 2


@pytest.mark.parametrize("status", [403, 429])
def test_long_rate_limit_fails_with_the_reset_time(
    fake_github: FakeGitHub, github_client: GitHubClient, status: int
) -> None:
    iid = _seed(fake_github)
    fake_github.rate_limit("/repos/octo/app/git/trees/", status=status, reset_in=3600)
    source = GitHubSource(github_client, iid, "octo", "app")
    with pytest.raises(GitHubRateLimited, match="rate limit exceeded") as info:
        source.files()
    assert 3500 <= info.value.retry_after <= 3600
    assert isinstance(info.value, SourceError)
    assert fake_github.count("GET", "/repos/octo/app/git/trees/") == 1  # no pointless retry


def test_forbidden_without_rate_limit_headers_is_a_plain_error(
    fake_github: FakeGitHub, github_client: GitHubClient
) -> None:
    iid = _seed(fake_github)
    fake_github.forbid("/repos/octo/app/git/trees/")
    with pytest.raises(SourceError, match=r"403.*Resource not accessible") as info:
        GitHubSource(github_client, iid, "octo", "app").files()
    assert not isinstance(info.value, GitHubRateLimited)
    assert fake_github.count("GET", "/repos/octo/app/git/trees/") == 1


def test_unknown_installation_is_not_found(fake_github: FakeGitHub, github_client: GitHubClient) -> None:
    _seed(fake_github)
    with pytest.raises(SourceError, match="not found"):
        GitHubSource(github_client, 999999, "octo", "app").files()


async def test_pull_request_is_created_then_updated(fake_github: FakeGitHub, github_client: GitHubClient) -> None:
    iid = _seed(fake_github)
    files = {".github/workflows/ci.yml": "name: CI\non: [push]\n", ".github/dependabot.yml": "version: 2\n"}
    first = await github_client.open_or_update_pull_request(
        iid, "octo", "app", base="main", files=files, title="Add CI", body="v1", commit_message="ci: add pipeline"
    )
    assert first.created
    assert first.committed
    assert first.head_branch == PR_BRANCH
    on_branch = fake_github.files_at("octo/app", f"heads/{PR_BRANCH}")
    assert on_branch[".github/workflows/ci.yml"] == b"name: CI\non: [push]\n"
    assert on_branch[".github/dependabot.yml"] == b"version: 2\n"
    assert on_branch["package.json"] == FILES["package.json"].encode()  # built on top of the base branch
    assert fake_github.files_at("octo/app", "heads/main").keys() == FILES.keys()  # base untouched

    # Same files again: same PR, no new commit.
    again = await github_client.open_or_update_pull_request(
        iid, "octo", "app", base="main", files=files, title="Add CI", body="v2", commit_message="ci: add pipeline"
    )
    assert again.number == first.number
    assert not again.created
    assert not again.committed
    assert again.head_sha == first.head_sha

    # New content: the branch moves, the same PR is updated.
    files[".github/workflows/ci.yml"] = "name: CI\non: [push, pull_request]\n"
    third = await github_client.open_or_update_pull_request(
        iid, "octo", "app", base="main", files=files, title="Add CI", body="v3", commit_message="ci: update"
    )
    assert third.number == first.number
    assert third.committed
    assert third.head_sha != first.head_sha
    pulls = fake_github.repos["octo/app"].pulls
    assert len(pulls) == 1
    assert pulls[0]["body"] == "v3"
    assert pulls[0]["head"]["sha"] == third.head_sha
    assert fake_github.files_at("octo/app", f"heads/{PR_BRANCH}")[".github/workflows/ci.yml"] == (
        b"name: CI\non: [push, pull_request]\n"
    )


async def test_pull_request_on_missing_base_branch(fake_github: FakeGitHub, github_client: GitHubClient) -> None:
    iid = _seed(fake_github)
    with pytest.raises(GitHubNotFound):
        await github_client.open_or_update_pull_request(
            iid, "octo", "app", base="nope", files={"a": "b"}, title="t", body="b", commit_message="m"
        )


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


async def test_oauth_exchange_checks_the_pkce_verifier(fake_github: FakeGitHub, github_client: GitHubClient) -> None:
    user = fake_github.add_user("mona")
    fake_github.authorize_as = user.id
    redirect = "http://localhost:8000/auth/github/callback"

    def code_for(challenge: str) -> str:
        url = github_client.authorize_url(state="s1", code_challenge=challenge, redirect_uri=redirect)
        resp = httpx.get(url, follow_redirects=False)
        assert resp.status_code == 302
        query = parse_qs(urlsplit(resp.headers["location"]).query)
        assert query["state"] == ["s1"]
        return query["code"][0]

    verifier, challenge = _pkce()
    with pytest.raises(GitHubError, match="bad_verification_code"):
        await github_client.exchange_code(code=code_for(challenge), code_verifier=_pkce()[0], redirect_uri=redirect)
    code = code_for(challenge)
    token = await github_client.exchange_code(code=code, code_verifier=verifier, redirect_uri=redirect)
    assert token.access_token not in repr(token)
    me = await github_client.get_user(token.access_token)
    assert me.login == "mona"
    with pytest.raises(GitHubError, match="bad_verification_code"):  # codes are single-use
        await github_client.exchange_code(code=code, code_verifier=verifier, redirect_uri=redirect)


async def test_user_installations_and_repositories(fake_github: FakeGitHub, github_client: GitHubClient) -> None:
    iid = _seed(fake_github)
    octo = next(u for u in fake_github.users.values() if u.login == "octo")
    fake_github.authorize_as = octo.id
    token = fake_github._issue_user_token(octo.id)["access_token"]
    installs = await github_client.list_user_installations(token)
    assert [(i.id, i.account_login) for i in installs] == [(iid, "octo")]
    repos = await github_client.list_user_installation_repositories(token, iid)
    assert [(r.full_name, r.default_branch, r.private) for r in repos] == [("octo/app", "main", True)]
    assert [r.full_name for r in await github_client.list_installation_repositories(iid)] == ["octo/app"]
    stranger = fake_github._issue_user_token(fake_github.add_user("eve").id)["access_token"]
    assert await github_client.list_user_installations(stranger) == []
    with pytest.raises(GitHubNotFound):
        await github_client.list_user_installation_repositories(stranger, iid)


def test_enterprise_base_url_with_a_path_prefix(fake_github: FakeGitHub) -> None:
    # GHES serves the API under /api/v3; a wrong prefix must fail loudly, not silently hit another host.
    client = GitHubClient(settings_for(fake_github, github_api_url=fake_github.base_url + "/api/v3"))
    iid = _seed(fake_github)
    with pytest.raises(SourceError, match="not found"):
        GitHubSource(client, iid, "octo", "app").files()
    assert any(path.startswith("/api/v3/") for _, path in fake_github.requests)


async def test_repository_sync_reads_branch_head_and_visibility(
    fake_github: FakeGitHub, github_client: GitHubClient
) -> None:
    iid = _seed(fake_github)
    head = fake_github.push("octo/app", "main", {"README.md": "# app\n"})
    link = GitHubRepositoryLink(installation_id=iid, full_name="octo/app")

    metadata = await repository_tasks.github_metadata(github_client, link)
    assert metadata == repository_tasks.RemoteMetadata("main", head, "private")

    fake_github.repos["octo/app"].private = False
    assert (await repository_tasks.github_metadata(github_client, link)).visibility == "public"
    fake_github.repos["octo/app"].visibility = "internal"
    assert (await repository_tasks.github_metadata(github_client, link)).visibility == "internal"
