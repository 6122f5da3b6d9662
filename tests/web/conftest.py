"""Fixtures for the web plumbing tests: an app built from test settings, against the real Redis.

Each test run uses its own rate-limit key prefix so parallel runs never share counters; the keys are
deleted afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from fastapi import FastAPI

from autodevops.config import Settings
from autodevops.web import create_app
from platform_support import redis_url

REDIS_URL = redis_url(0)


@pytest.fixture(scope="session")
def key_prefix() -> Iterator[str]:
    prefix = f"test-web-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def make_settings(key_prefix: str) -> Callable[..., Settings]:
    """Test settings; keyword arguments override fields."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "env": "test",
            "redis_url": REDIS_URL,
            "rate_limit_key_prefix": f"{key_prefix}-{uuid.uuid4().hex[:8]}",
            "log_json": True,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def app(make_settings: Callable[..., Settings]) -> FastAPI:
    return create_app(make_settings())
