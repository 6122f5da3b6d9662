"""OpenAI and any OpenAI-compatible server (Ollama, vLLM, LM Studio) through the `openai` SDK.

`/v1/chat/completions` with a strict `json_schema` response format. A local server needs no key: the
base URL is what selects it. 429 `insufficient_quota` (billing exhausted) is a daily-quota error; other
429s honour `retry-after-ms` / `Retry-After`.
"""

from __future__ import annotations

from typing import Any

import openai

from autodevops.ai.providers.base import (
    FatalError,
    InvalidOutputError,
    Message,
    ProviderError,
    ProviderResponse,
    ProviderTimeoutError,
    QuotaDailyError,
    RetryableError,
    Usage,
    retry_after_header,
)

# Billing quota has no announced reset; the breaker stays open this long before one trial call.
INSUFFICIENT_QUOTA_RESET_S = 3600.0
NO_KEY = "not-needed"  # local servers ignore the key, but the SDK refuses to build a client without one


class OpenAICompatProvider:
    name = "openai"

    def __init__(self, *, api_key: str | None, base_url: str, timeout_s: float) -> None:
        self._client = openai.AsyncOpenAI(
            api_key=api_key or NO_KEY, base_url=base_url, max_retries=0, timeout=timeout_s
        )

    async def generate(
        self,
        *,
        model: str,
        system: str,
        messages: list[Message],
        schema: dict[str, Any],
        max_output_tokens: int,
        timeout_s: float,
    ) -> ProviderResponse:
        chat: list[Any] = [{"role": "system", "content": system}]
        chat.extend({"role": m.role, "content": m.text} for m in messages)
        try:
            response = await self._client.chat.completions.create(
                model=model,
                messages=chat,
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "analysis_review", "schema": schema, "strict": True},
                },
                max_tokens=max_output_tokens,
                temperature=0.0,
                timeout=timeout_s,
            )
        except openai.APITimeoutError as exc:
            raise ProviderTimeoutError(f"openai {model}: timed out") from exc
        except openai.APIStatusError as exc:
            raise _translate(model, exc) from exc
        except openai.APIError as exc:  # connection errors, malformed bodies
            raise RetryableError(f"openai {model}: {type(exc).__name__}: {exc}") from exc
        usage = Usage(
            input_tokens=response.usage.prompt_tokens if response.usage else 0,
            output_tokens=response.usage.completion_tokens if response.usage else 0,
        )
        if not response.choices:
            raise InvalidOutputError(f"openai {model}: no choices", usage=usage)
        choice = response.choices[0]
        text = choice.message.content or ""
        if choice.finish_reason == "length" or not text:
            raise InvalidOutputError(f"openai {model}: answer {choice.finish_reason}", text=text, usage=usage)
        return ProviderResponse(text=text, usage=usage)


def _translate(model: str, exc: openai.APIStatusError) -> ProviderError:
    status = exc.status_code
    message = f"openai {model}: {status} {exc.message}"
    if status == 429:
        code = exc.code if isinstance(exc.code, str) else None
        if code == "insufficient_quota":
            return QuotaDailyError(message, reset_after_s=INSUFFICIENT_QUOTA_RESET_S)
        return RetryableError(message, retry_after_s=retry_after_header(exc.response.headers))
    if status in (408, 409) or status >= 500:
        return RetryableError(message, retry_after_s=retry_after_header(exc.response.headers))
    return FatalError(message)
