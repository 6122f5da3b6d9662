"""Gemini through `google-genai`: `models/{model}:generateContent` with a JSON response schema.

The SDK's retries are off (`HttpRetryOptions(attempts=1)`). A 429 carries `google.rpc.RetryInfo.retryDelay`
("37s") in the error details, and `google.rpc.QuotaFailure` names the quota: a per-day quota
(`...PerDay...`) is a `QuotaDailyError`, anything else a `RetryableError`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from google import genai
from google.genai import errors, types

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
    is_timeout,
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"


def error_details(details: Any) -> list[dict[str, Any]]:
    """The `error.details` list of a Google API error body (empty when absent or malformed)."""
    if isinstance(details, dict):
        body = details.get("error", details)
        items = body.get("details") if isinstance(body, dict) else None
        if isinstance(items, list):
            return [item for item in items if isinstance(item, dict)]
    return []


def retry_delay_s(details: Any) -> float | None:
    """`RetryInfo.retryDelay` ("37s", "0.5s") in seconds, if the error carries one."""
    for item in error_details(details):
        if item.get("@type") == RETRY_INFO:
            match = _DURATION.match(str(item.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def is_daily_quota(details: Any) -> bool:
    """Whether a 429 is a spent per-day quota (its `QuotaFailure` violation names a PerDay quota id)."""
    for item in error_details(details):
        if item.get("@type") == QUOTA_FAILURE:
            for violation in item.get("violations") or []:
                if isinstance(violation, dict) and "PerDay" in str(violation.get("quotaId", "")):
                    return True
    return False


def seconds_to_pacific_midnight(now: dt.datetime | None = None) -> float:
    """Gemini's daily quotas reset at midnight Pacific time; UTC-8 is used (at worst an hour late)."""
    now = now or dt.datetime.now(dt.UTC)
    pacific = now.astimezone(dt.timezone(dt.timedelta(hours=-8)))
    midnight = (pacific + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - pacific).total_seconds()


class GeminiProvider:
    """Calls Gemini at `base_url` (the public endpoint, a regional one, or a test fake)."""

    name = "gemini"

    def __init__(self, *, api_key: str, base_url: str, timeout_s: float) -> None:
        self._client = genai.Client(
            api_key=api_key,
            http_options=types.HttpOptions(
                base_url=base_url,
                api_version="v1beta",
                timeout=int(timeout_s * 1000),
                retry_options=types.HttpRetryOptions(attempts=1),
            ),
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
        contents = [
            types.Content(role="model" if m.role == "assistant" else "user", parts=[types.Part(text=m.text)])
            for m in messages
        ]
        config = types.GenerateContentConfig(
            system_instruction=system,
            response_mime_type="application/json",
            response_json_schema=schema,
            max_output_tokens=max_output_tokens,
            temperature=0.0,
            http_options=types.HttpOptions(timeout=int(timeout_s * 1000)),
            # Flash models think by default and bill thoughts as output; a review needs none.
            thinking_config=types.ThinkingConfig(thinking_budget=0) if "flash" in model else None,
        )
        try:
            response = await self._client.aio.models.generate_content(model=model, contents=contents, config=config)
        except errors.APIError as exc:
            raise _translate(exc) from exc
        except ProviderError:
            raise
        except Exception as exc:
            if is_timeout(exc):
                raise ProviderTimeoutError(f"gemini {model}: timed out") from exc
            raise RetryableError(f"gemini {model}: {type(exc).__name__}: {exc}") from exc
        meta = response.usage_metadata
        usage = Usage(
            input_tokens=(meta.prompt_token_count or 0) if meta else 0,
            output_tokens=((meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)) if meta else 0,
        )
        try:
            text = response.text
        except ValueError:
            text = None
        if not text:
            reason = response.candidates[0].finish_reason if response.candidates else "no candidates"
            raise InvalidOutputError(f"gemini {model}: empty answer ({reason})", usage=usage)
        return ProviderResponse(text=text, usage=usage)

    async def count_tokens(self, *, model: str, text: str) -> int:
        """Tokens of `text` as `model` counts them (`models/{model}:countTokens`)."""
        try:
            result = await self._client.aio.models.count_tokens(model=model, contents=text)
        except errors.APIError as exc:
            raise _translate(exc) from exc
        return int(result.total_tokens or 0)


def _translate(exc: errors.APIError) -> ProviderError:
    code = exc.code or 0
    message = f"gemini: {code} {exc.status or ''} {exc.message or ''}".strip()
    if code == 429:
        if is_daily_quota(exc.details):
            return QuotaDailyError(message, reset_after_s=seconds_to_pacific_midnight())
        return RetryableError(message, retry_after_s=retry_delay_s(exc.details))
    if code in (408, 500, 502, 503, 504):
        return RetryableError(message, retry_after_s=retry_delay_s(exc.details))
    return FatalError(message)
