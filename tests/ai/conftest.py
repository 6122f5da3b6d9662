"""AI layer fixtures: the fake provider server, settings pointing at it, and a private Redis namespace.

Redis is real: DB 12, with a key prefix unique to each test (keys removed afterwards), so parallel runs and
other suites never see each other's breakers, quotas or cache.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from redis.asyncio import Redis

from ai.fake_server import FakeAI, ServerThread
from autodevops.config import Settings
from platform_support import redis_url

AI_REDIS_URL = redis_url(12)


@pytest.fixture(scope="session")
def fake_ai_server() -> Iterator[FakeAI]:
    fake = FakeAI()
    server = ServerThread(fake)
    server.start()
    yield fake
    server.stop()


@pytest.fixture
def fake_ai(fake_ai_server: FakeAI) -> FakeAI:
    fake_ai_server.reset()
    return fake_ai_server


@pytest.fixture
def ai_prefix() -> str:
    return f"test-ai-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def ai_redis(ai_prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(AI_REDIS_URL)
    yield client
    keys = [key async for key in client.scan_iter(match=f"{ai_prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


MakeSettings = Callable[..., Settings]


@pytest.fixture
def ai_settings(fake_ai: FakeAI, ai_prefix: str) -> MakeSettings:
    """Settings whose AI entries all point at the fake server; keywords override fields."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "env": "test",
            "redis_url": AI_REDIS_URL,
            "ai_key_prefix": ai_prefix,
            "ai_models": ["gemini:gemini-2.5-flash", "openai:gpt-4o-mini", "anthropic:claude-haiku-4-5"],
            "gemini_api_key": "test-gemini-key",
            "openai_api_key": "test-openai-key",
            "anthropic_api_key": "test-anthropic-key",
            "ai_gemini_base_url": fake_ai.url,
            "ai_openai_base_url": f"{fake_ai.url}/v1",
            "ai_anthropic_base_url": fake_ai.url,
            "ai_timeout_s": 1.0,
            "ai_retries": 1,
            "ai_backoff_base_s": 0.01,
            "ai_backoff_max_s": 0.05,
            "ai_quota_max_wait_s": 0.0,
        }
        values.update(overrides)
        return Settings(**values)

    return make
