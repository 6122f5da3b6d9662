"""The router against the fake provider server: order, retries, fallbacks, repair, cache, cost."""

from __future__ import annotations

import asyncio
import json

import pytest
from redis.asyncio import Redis

from ai.conftest import MakeSettings
from ai.fake_server import FakeAI
from autodevops.ai.digest import Digest
from autodevops.ai.router import AIUnavailable, Router
from autodevops.metrics import REGISTRY

DIGEST = Digest.from_data({"stacks": [{"path": ".", "language": "python", "package_manager": "pip"}], "files": []})


class Sleeps:
    """Records the router's back-off delays instead of sleeping."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def providers_called(fake: FakeAI) -> list[str]:
    return [c.provider for c in fake.calls]


async def test_first_entry_answers_and_the_cost_follows_the_price_table(
    ai_settings: MakeSettings, ai_redis: Redis, fake_ai: FakeAI
) -> None:
    router = Router(ai_settings(), redis=ai_redis)
    result = await router.review(DIGEST)
    assert result.entry == "gemini:gemini-2.5-flash"
    assert not result.cached
    assert result.review.summary == "A Python library tested with pytest."
    assert providers_called(fake_ai) == ["gemini"]
    [call] = result.calls
    assert (call.input_tokens, call.output_tokens) == (1200, 300)
    # 1200 input tokens at $0.30/M + 300 output tokens at $2.50/M
    assert call.cost_usd == pytest.approx(1200 * 0.30e-6 + 300 * 2.50e-6)
    request = fake_ai.calls[0]
    assert request.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert request.body["generationConfig"]["responseMimeType"] == "application/json"
    assert json.loads(request.body["contents"][0]["parts"][0]["text"]) == DIGEST.data


async def test_falls_back_in_order_after_retries(ai_settings: MakeSettings, ai_redis: Redis, fake_ai: FakeAI) -> None:
    fake_ai.script("gemini", "500")
    fake_ai.script("openai", "429")
    sleeps = Sleeps()
    router = Router(ai_settings(ai_retries=1), redis=ai_redis, sleep=sleeps)
    result = await router.review(DIGEST)
    assert providers_called(fake_ai) == ["gemini", "gemini", "openai", "openai", "anthropic"]
    assert result.entry == "anthropic:claude-haiku-4-5"
    assert [c.outcome for c in result.calls] == ["retryable"] * 4 + ["ok"]
    # OpenAI's Retry-After (0.05 s) is a floor for its back-off
    assert sleeps.delays[1] >= 0.05


async def test_retry_delay_longer_than_allowed_falls_back_at_once(
    ai_settings: MakeSettings, ai_redis: Redis, fake_ai: FakeAI
) -> None:
    fake_ai.retry_after_s = 120
    fake_ai.script("gemini", "429")
    sleeps = Sleeps()
    router = Router(ai_settings(ai_retries=3, ai_retry_after_max_s=30), redis=ai_redis, sleep=sleeps)
    result = await router.review(DIGEST)
    assert providers_called(fake_ai) == ["gemini", "openai"]
    assert result.entry == "openai:gpt-4o-mini"
    assert sleeps.delays == []


async def test_gemini_retry_delay_from_error_details_is_honoured(
    ai_settings: MakeSettings, ai_redis: Redis, fake_ai: FakeAI
) -> None:
    fake_ai.retry_after_s = 7
    fake_ai.script("gemini", "429", "ok")
    sleeps = Sleeps()
    router = Router(ai_settings(ai_retries=2, ai_backoff_max_s=0.01), redis=ai_redis, sleep=sleeps)
    result = await router.review(DIGEST)
    assert result.entry == "gemini:gemini-2.5-flash"
    assert len(sleeps.delays) == 1
    assert 7 <= sleeps.delays[0] <= 7.7


async def test_timeout_falls_back(ai_settings: MakeSettings, ai_redis: Redis, fake_ai: FakeAI) -> None:
    fake_ai.script("gemini", "timeout")
    router = Router(ai_settings(ai_timeout_s=0.3, ai_retries=0), redis=ai_redis)
    result = await router.review(DIGEST)
    assert result.entry == "openai:gpt-4o-mini"
    assert [c.outcome for c in result.calls] == ["timeout", "ok"]


async def test_invalid_output_is_repaired_once(ai_settings: MakeSettings, ai_redis: Redis, fake_ai: FakeAI) -> None:
    fake_ai.script("gemini", "malformed", "ok")
    router = Router(ai_settings(), redis=ai_redis)
    result = await router.review(DIGEST)
    assert result.entry == "gemini:gemini-2.5-flash"
    repair = fake_ai.calls[1].body["contents"]
    assert [c["role"] for c in repair] == ["user", "model", "user"]
    assert "not valid JSON" in repair[2]["parts"][0]["text"]


async def test_invalid_output_after_the_repair_gives_up(
    ai_settings: MakeSettings, ai_redis: Redis, fake_ai: FakeAI
) -> None:
    fake_ai.script("gemini", "invalid")
    router = Router(ai_settings(), redis=ai_redis)
    with pytest.raises(AIUnavailable) as info:
        await router.review(DIGEST)
    assert info.value.reason == "invalid-output"
    assert providers_called(fake_ai) == ["gemini", "gemini"]
    assert sum(c.input_tokens for c in info.value.calls) == 2400  # both billed calls are reported


async def test_cached_answer_makes_no_call(ai_settings: MakeSettings, ai_redis: Redis, fake_ai: FakeAI) -> None:
    router = Router(ai_settings(), redis=ai_redis)
    first = await router.review(DIGEST)
    second = await Router(ai_settings(), redis=ai_redis).review(DIGEST)
    assert len(fake_ai.calls) == 1
    assert second.cached
    assert second.calls == []
    assert second.review == first.review
    changed = Digest.from_data({**DIGEST.data, "files": ["uv.lock"]})
    await router.review(changed)
    assert len(fake_ai.calls) == 2


async def test_daily_quota_opens_the_breaker_until_reset(
    ai_settings: MakeSettings, ai_redis: Redis, fake_ai: FakeAI
) -> None:
    fake_ai.script("gemini", "429-daily")
    router = Router(ai_settings(ai_cache_ttl_s=0), redis=ai_redis)
    assert (await router.review(DIGEST)).entry == "openai:gpt-4o-mini"
    assert await router.breakers["gemini:gemini-2.5-flash"].state() == "open"
    fake_ai.script("gemini", "ok")
    labels = {"provider": "gemini", "model": "gemini-2.5-flash", "reason": "breaker_open"}
    skipped = REGISTRY.get_sample_value("autodevops_ai_fallbacks_total", labels) or 0.0
    assert (await router.review(DIGEST)).entry == "openai:gpt-4o-mini"
    assert providers_called(fake_ai) == ["gemini", "openai", "openai"]
    assert REGISTRY.get_sample_value("autodevops_ai_fallbacks_total", labels) == skipped + 1


async def test_no_credentials_means_not_configured(ai_settings: MakeSettings, ai_redis: Redis) -> None:
    settings = ai_settings(gemini_api_key=None, openai_api_key=None, anthropic_api_key=None)
    settings.ai_openai_base_url = "https://api.openai.com/v1"
    router = Router(settings, redis=ai_redis)
    assert not router.configured
    with pytest.raises(AIUnavailable) as info:
        await router.review(DIGEST)
    assert info.value.reason == "not-configured"


async def test_every_provider_down_is_unavailable(ai_settings: MakeSettings, ai_redis: Redis, fake_ai: FakeAI) -> None:
    for provider in ("gemini", "openai", "anthropic"):
        fake_ai.script(provider, "500")
    router = Router(ai_settings(ai_retries=0), redis=ai_redis)
    with pytest.raises(AIUnavailable) as info:
        await router.review(DIGEST)
    assert info.value.reason == "unavailable"
    assert providers_called(fake_ai) == ["gemini", "openai", "anthropic"]


async def test_a_cancelled_call_counts_against_the_breaker(
    ai_settings: MakeSettings, ai_redis: Redis, fake_ai: FakeAI
) -> None:
    fake_ai.script("gemini", "timeout")
    router = Router(ai_settings(ai_timeout_s=5.0, ai_breaker_failures=1), redis=ai_redis)
    task = asyncio.create_task(router.review(DIGEST))
    for _ in range(500):
        if fake_ai.count("gemini"):
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await router.breakers["gemini:gemini-2.5-flash"].state() == "open"


async def test_calls_tokens_cost_and_cache_hits_are_exported(
    ai_settings: MakeSettings, ai_redis: Redis, fake_ai: FakeAI
) -> None:
    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    gemini = {"provider": "gemini", "model": "gemini-2.5-flash"}
    before = (
        sample("autodevops_ai_calls_total", **gemini, outcome="ok"),
        sample("autodevops_ai_tokens_total", **gemini, direction="input"),
        sample("autodevops_ai_cost_usd_total", **gemini),
        sample("autodevops_ai_cache_total", result="hit"),
    )
    router = Router(ai_settings(), redis=ai_redis)
    await router.review(DIGEST)
    await router.review(DIGEST)
    after = (
        sample("autodevops_ai_calls_total", **gemini, outcome="ok"),
        sample("autodevops_ai_tokens_total", **gemini, direction="input"),
        sample("autodevops_ai_cost_usd_total", **gemini),
        sample("autodevops_ai_cache_total", result="hit"),
    )
    assert after[0] - before[0] == 1
    assert after[1] - before[1] == 1200
    assert after[2] - before[2] == pytest.approx(0.00111)
    assert after[3] - before[3] == 1
