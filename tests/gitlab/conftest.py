"""Fixtures of the GitLab tests: a fake GitLab on loopback and settings pointing the production client at it.

The platform reaches it over http (`allow_insecure_git_urls`) on loopback, listed in `git_private_servers`
like a self-managed instance on a private network: address checks and pinning run unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from autodevops.config import Settings
from platform_support import forget_redis_keys, test_database_name

from .fake_gitlab import CLIENT_ID, CLIENT_SECRET, FakeGitLab


def gitlab_overrides(fake: FakeGitLab, **extra: object) -> dict[str, object]:
    values: dict[str, object] = {
        "gitlab_url": fake.base_url,
        "gitlab_client_id": CLIENT_ID,
        "gitlab_client_secret": CLIENT_SECRET,
        "gitlab_rate_limit_max_wait": 2.0,
        "allow_insecure_git_urls": True,
        "git_private_servers": [fake.base_url.removeprefix("http://")],
        "public_url": "http://localhost:8000",
        "session_cookie_secure": False,
    }
    values.update(extra)
    return values


def settings_for(fake: FakeGitLab, **extra: object) -> Settings:
    values = gitlab_overrides(fake, env="test", **extra)
    values["gitlab_client_secret"] = SecretStr(str(values["gitlab_client_secret"]))
    return Settings.model_validate(values)


@pytest.fixture
def fake_gitlab() -> Iterator[FakeGitLab]:
    fake = FakeGitLab()
    server = fake.start()
    try:
        yield fake
    finally:
        server.stop()


# Per test database (and so per xdist worker): parallel runs never clear each other's keys.
JOBS_PREFIX = f"test-gitlab-{test_database_name()}"


@pytest.fixture
async def app(make_api_client: Any, fake_gitlab: FakeGitLab, clean_db: None) -> AsyncIterator[Any]:
    """A client over the real app (real Postgres and Redis) whose GitLab is the fake.

    Jobs it queues go to Redis under their own key prefix, removed afterwards (no worker consumes them here).
    """
    yield await make_api_client(**gitlab_overrides(fake_gitlab, jobs_key_prefix=JOBS_PREFIX))
    await forget_redis_keys(JOBS_PREFIX)


@pytest.fixture
def gitlab_settings(fake_gitlab: FakeGitLab) -> Settings:
    return settings_for(fake_gitlab)
