"""Fixtures of the GitHub integration tests: a fake GitHub on loopback and settings pointing at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from autodevops.config import Settings
from autodevops.github.client import GitHubClient
from platform_support import forget_redis_keys, test_database_name

from .fake_github import APP_ID, CLIENT_ID, CLIENT_SECRET, FakeGitHub, generate_app_key

WEBHOOK_SECRET = "webhook-secret-for-tests"


@pytest.fixture(scope="session")
def app_private_key() -> str:
    return generate_app_key()  # RSA generation is slow: once per run


@pytest.fixture
def fake_github(app_private_key: str) -> Iterator[FakeGitHub]:
    fake = FakeGitHub(app_private_key)
    server = fake.start()
    try:
        yield fake
    finally:
        server.stop()


def settings_for(fake: FakeGitHub, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "github_api_url": fake.base_url,
        "github_web_url": fake.base_url,
        "github_app_id": APP_ID,
        "github_app_private_key": SecretStr(fake.app_private_key),
        "github_client_id": CLIENT_ID,
        "github_client_secret": SecretStr(CLIENT_SECRET),
        "github_webhook_secret": SecretStr(WEBHOOK_SECRET),
        "github_rate_limit_max_wait": 5.0,
        "public_url": "http://localhost:8000",
        "session_cookie_secure": False,
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture
def github_settings(fake_github: FakeGitHub) -> Settings:
    return settings_for(fake_github)


@pytest.fixture
def github_client(github_settings: Settings) -> GitHubClient:
    return GitHubClient(github_settings)


def app_overrides(fake: FakeGitHub, **extra: object) -> dict[str, object]:
    """Settings overrides for an app (from `make_api_client`) talking to the fake GitHub."""
    values: dict[str, object] = {
        "github_api_url": fake.base_url,
        "github_web_url": fake.base_url,
        "github_app_id": APP_ID,
        "github_app_private_key": fake.app_private_key,
        "github_client_id": CLIENT_ID,
        "github_client_secret": CLIENT_SECRET,
        "github_webhook_secret": WEBHOOK_SECRET,
        "github_rate_limit_max_wait": 5.0,
        "public_url": "http://localhost:8000",
        "session_cookie_secure": False,
    }
    values.update(extra)
    return values


# Per test database (and so per xdist worker): parallel runs never clear each other's keys.
JOBS_PREFIX = f"test-github-{test_database_name()}"


@pytest.fixture
async def app_client(make_api_client: Any, fake_github: FakeGitHub, clean_db: None) -> AsyncIterator[Any]:
    """A client over the real app (real Postgres and Redis) whose GitHub is the fake.

    Jobs it queues go to Redis under their own key prefix, removed afterwards (no worker consumes them here).
    """
    yield await make_api_client(**app_overrides(fake_github, jobs_key_prefix=JOBS_PREFIX))
    await forget_redis_keys(JOBS_PREFIX)
