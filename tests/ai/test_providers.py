"""Each provider over its official SDK against the fake server: answers, usage, and the error family."""

from __future__ import annotations

import pytest

from ai.fake_server import FakeAI
from autodevops.ai.providers.anthropic import AnthropicProvider
from autodevops.ai.providers.base import (
    Message,
    Provider,
    ProviderError,
    ProviderTimeoutError,
    QuotaDailyError,
    RetryableError,
)
from autodevops.ai.providers.gemini import GeminiProvider
from autodevops.ai.providers.openai_compat import OpenAICompatProvider
from autodevops.ai.schemas import json_schema

PROVIDERS = ("gemini", "openai", "anthropic")


def provider(name: str, fake: FakeAI) -> Provider:
    if name == "gemini":
        return GeminiProvider(api_key="k", base_url=fake.url, timeout_s=0.5)
    if name == "openai":
        return OpenAICompatProvider(api_key=None, base_url=f"{fake.url}/v1", timeout_s=0.5)
    return AnthropicProvider(api_key="k", base_url=fake.url, timeout_s=0.5)


async def generate(p: Provider) -> str:
    response = await p.generate(
        model="gemini-2.5-flash" if p.name == "gemini" else "model",
        system="review",
        messages=[Message("user", "{}")],
        schema=json_schema(),
        max_output_tokens=256,
        timeout_s=0.5,
    )
    assert (response.usage.input_tokens, response.usage.output_tokens) == (1200, 300)
    return response.text


@pytest.mark.parametrize("name", PROVIDERS)
async def test_answer_and_usage(name: str, fake_ai: FakeAI) -> None:
    assert '"summary"' in await generate(provider(name, fake_ai))


@pytest.mark.parametrize("name", PROVIDERS)
@pytest.mark.parametrize(
    ("behaviour", "error"),
    [("429", RetryableError), ("500", RetryableError), ("timeout", ProviderTimeoutError)],
)
async def test_errors_are_translated(name: str, behaviour: str, error: type[ProviderError], fake_ai: FakeAI) -> None:
    fake_ai.retry_after_s = 2.5
    fake_ai.script(name, behaviour)
    with pytest.raises(error) as info:
        await generate(provider(name, fake_ai))
    if behaviour == "429":
        assert isinstance(info.value, RetryableError)
        assert info.value.retry_after_s == pytest.approx(2.5)


@pytest.mark.parametrize("name", ["gemini", "openai"])
async def test_spent_daily_quota(name: str, fake_ai: FakeAI) -> None:
    fake_ai.script(name, "429-daily")
    with pytest.raises(QuotaDailyError) as info:
        await generate(provider(name, fake_ai))
    assert info.value.reset_after_s is not None
    assert 0 < info.value.reset_after_s <= 86400


async def test_gemini_counts_tokens(fake_ai: FakeAI) -> None:
    gemini = GeminiProvider(api_key="k", base_url=fake_ai.url, timeout_s=1)
    assert await gemini.count_tokens(model="gemini-2.5-flash", text="x" * 400) > 0


async def test_sdk_retries_are_off(fake_ai: FakeAI) -> None:
    for name in PROVIDERS:
        fake_ai.script(name, "500")
        with pytest.raises(RetryableError):
            await generate(provider(name, fake_ai))
    assert [c.provider for c in fake_ai.calls] == list(PROVIDERS)  # one request each: the router owns retries
