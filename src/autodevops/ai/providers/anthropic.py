"""Anthropic through the `anthropic` SDK: `/v1/messages`, structured output as a forced tool call.

The answer schema is the input schema of one tool the model must call, so the reply is the tool call's input.
429 and 529 (overloaded) honour `retry-after`.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
from anthropic.types import ToolChoiceToolParam, ToolParam

from autodevops.ai.providers.base import (
    FatalError,
    InvalidOutputError,
    Message,
    ProviderError,
    ProviderResponse,
    ProviderTimeoutError,
    RetryableError,
    Usage,
    retry_after_header,
)

TOOL = "submit_review"


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, *, api_key: str, base_url: str, timeout_s: float) -> None:
        self._client = anthropic.AsyncAnthropic(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout_s)

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
        # The SDK's message TypedDicts differ by version; the wire format is the same plain dict.
        chat: list[Any] = [{"role": m.role, "content": m.text} for m in messages]
        tool: ToolParam = {"name": TOOL, "description": "Submit the review of the analysis.", "input_schema": schema}
        choice: ToolChoiceToolParam = {"type": "tool", "name": TOOL}
        try:
            response = await self._client.messages.create(
                model=model,
                max_tokens=max_output_tokens,
                system=system,
                messages=chat,
                tools=[tool],
                tool_choice=choice,
                timeout=timeout_s,
            )
        except anthropic.APITimeoutError as exc:
            raise ProviderTimeoutError(f"anthropic {model}: timed out") from exc
        except anthropic.APIStatusError as exc:
            raise _translate(model, exc) from exc
        except anthropic.APIError as exc:
            raise RetryableError(f"anthropic {model}: {type(exc).__name__}: {exc}") from exc
        usage = Usage(input_tokens=response.usage.input_tokens, output_tokens=response.usage.output_tokens)
        for block in response.content:
            if getattr(block, "type", None) == "tool_use" and getattr(block, "name", None) == TOOL:
                return ProviderResponse(text=json.dumps(getattr(block, "input", None)), usage=usage)
        text = "".join(getattr(b, "text", "") for b in response.content)
        if text:  # a model that answered in prose with JSON inside: let the router validate it
            return ProviderResponse(text=text, usage=usage)
        raise InvalidOutputError(f"anthropic {model}: no tool call ({response.stop_reason})", usage=usage)


def _translate(model: str, exc: anthropic.APIStatusError) -> ProviderError:
    status = exc.status_code
    message = f"anthropic {model}: {status} {exc.message}"
    if status in (408, 409, 429) or status >= 500:
        return RetryableError(message, retry_after_s=retry_after_header(exc.response.headers))
    return FatalError(message)
