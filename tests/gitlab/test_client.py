"""The GitLab client against the fake GitLab: pagination, search, errors users can act on, rate limits, and the
git URL policy applied to every request."""

from __future__ import annotations

import pytest

from autodevops.config import Settings
from autodevops.errors import ValidationFailed
from autodevops.gitlab.client import (
    GitLabClient,
    GitLabError,
    GitLabNotFound,
    GitLabRateLimited,
    GitLabTokenInvalid,
    check_branch,
    check_full_path,
)

from .conftest import settings_for
from .fake_gitlab import FakeGitLab


async def test_lists_every_visible_project_page_by_page_and_searches(fake_gitlab: FakeGitLab) -> None:
    alice = fake_gitlab.add_user("alice")
    bob = fake_gitlab.add_user("bob")
    for n in range(150):
        fake_gitlab.add_project(f"acme/service-{n:03}", members={alice: 30})
    fake_gitlab.add_project("other/secret", members={bob: 40})
    token = fake_gitlab.user_token(alice)
    client = GitLabClient(settings_for(fake_gitlab))

    first = await client.list_projects(token)
    second = await client.list_projects(token, page=first.next_page or 0)
    assert (len(first.projects), first.next_page, len(second.projects), second.next_page) == (100, 2, 50, None)
    names = {p.path_with_namespace for p in first.projects + second.projects}
    assert len(names) == 150
    assert "other/secret" not in names

    found = await client.list_projects(token, search="service-14")
    assert sorted(p.path_with_namespace for p in found.projects) == [f"acme/service-14{n}" for n in range(10)]


async def test_reads_a_project_by_path_on_a_subgroup(fake_gitlab: FakeGitLab) -> None:
    alice = fake_gitlab.add_user("alice")
    project = fake_gitlab.add_project("acme/platform/api", members={alice: 30}, visibility="internal", files={"a": "1"})
    client = GitLabClient(settings_for(fake_gitlab))
    found = await client.get_project(fake_gitlab.user_token(alice), "acme/platform/api")
    assert (found.id, found.visibility, found.default_branch) == (project.id, "internal", "main")
    assert await client.branch_head(fake_gitlab.user_token(alice), project.id, "main") == project.branches["main"]


async def test_errors_say_what_to_do(fake_gitlab: FakeGitLab) -> None:
    alice = fake_gitlab.add_user("alice")
    client = GitLabClient(settings_for(fake_gitlab))
    with pytest.raises(GitLabTokenInvalid, match="give a new token"):
        await client.get_user("glpat-revoked")
    with pytest.raises(GitLabNotFound, match="404 Project Not Found"):
        await client.get_project(fake_gitlab.user_token(alice), 999_999)


async def test_a_short_rate_limit_is_waited_out_and_a_long_one_reported(fake_gitlab: FakeGitLab) -> None:
    alice = fake_gitlab.add_user("alice")
    token = fake_gitlab.user_token(alice)
    client = GitLabClient(settings_for(fake_gitlab))
    fake_gitlab.rate_limit("/api/v4/user", reset_in=1, times=1)
    assert (await client.get_user(token)).username == "alice"
    assert fake_gitlab.count("GET", "/api/v4/user") == 2

    fake_gitlab.rate_limit("/api/v4/user", reset_in=3600, times=1)
    with pytest.raises(GitLabRateLimited, match="resets in 3600s") as caught:
        await client.get_user(token)
    assert caught.value.retry_after == 3600
    assert not caught.value.permanent


async def test_every_request_follows_the_git_url_policy(fake_gitlab: FakeGitLab) -> None:
    alice = fake_gitlab.add_user("alice")
    token = fake_gitlab.user_token(alice)
    # The same loopback instance, no longer listed as a private server: refused before anything is sent.
    client = GitLabClient(settings_for(fake_gitlab, git_private_servers=[]))
    with pytest.raises(GitLabError, match="GitLab URL"):
        await client.get_user(token)
    # http without the insecure-development setting: refused too.
    client = GitLabClient(settings_for(fake_gitlab, allow_insecure_git_urls=False))
    with pytest.raises(GitLabError, match="GitLab URL"):
        await client.get_user(token)
    assert fake_gitlab.requests == []


def test_the_default_instance_is_gitlab_dot_com() -> None:
    client = GitLabClient(Settings(env="test"))
    assert client.api_url == "https://gitlab.com/api/v4"


@pytest.mark.parametrize("bad", ["acme", "acme/../x", "/acme/x", "acme/x?y", "acme//x", "a/" + "b" * 300])
def test_project_paths_are_validated(bad: str) -> None:
    with pytest.raises(ValidationFailed):
        check_full_path(bad)


@pytest.mark.parametrize("bad", ["", "a..b", "a b", "-/x/", "x.lock", "refs/heads/x~1", "a//b", "x/"])
def test_branch_names_are_validated(bad: str) -> None:
    with pytest.raises(ValidationFailed):
        check_branch(bad)
    assert check_branch("release/1.x") == "release/1.x"
