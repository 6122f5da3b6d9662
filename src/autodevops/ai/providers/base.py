"""What every provider returns and the small error family the router acts on.

Providers translate their SDK's exceptions into these, so the router never looks at an SDK type:

- `RetryableError`: try the same entry again (429 rate limit, 5xx, connection reset), after `retry_after_s`
  when the provider said how long;
- `QuotaDailyError`: the day's quota is spent; the entry's breaker stays open until `reset_after_s`;
- `ProviderTimeoutError`: no answer in time (counts against the breaker, retried like a retryable error);
- `InvalidOutputError`: an answer that is not the JSON asked for (the router asks once for a repair);
- `FatalError`: a request that cannot succeed by retrying (bad key, unknown model, refused input).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Role = Literal["user", "assistant"]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    text: str


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, slots=True)
class ProviderResponse:
    """The model's raw JSON text and the tokens the provider billed for it."""

    text: str
    usage: Usage


class ProviderError(Exception):
    """Base of the family; `usage` is what a failed call still cost (e.g. truncated output)."""

    kind = "error"

    def __init__(self, message: str, *, usage: Usage | None = None) -> None:
        super().__init__(message)
        self.usage = usage or Usage()


class RetryableError(ProviderError):
    kind = "retryable"

    def __init__(self, message: str, *, retry_after_s: float | None = None, usage: Usage | None = None) -> None:
        super().__init__(message, usage=usage)
        self.retry_after_s = retry_after_s


class QuotaDailyError(ProviderError):
    kind = "quota_daily"

    def __init__(self, message: str, *, reset_after_s: float | None = None) -> None:
        super().__init__(message)
        self.reset_after_s = reset_after_s


class ProviderTimeoutError(ProviderError):
    kind = "timeout"


class InvalidOutputError(ProviderError):
    kind = "invalid_output"

    def __init__(self, message: str, *, text: str = "", usage: Usage | None = None) -> None:
        super().__init__(message, usage=usage)
        self.text = text


class FatalError(ProviderError):
    kind = "fatal"


class Provider(Protocol):
    """One AI API behind its official SDK, with the SDK's own retries off (the router retries)."""

    name: str

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
        """Ask `model` for JSON matching `schema`; raise a `ProviderError` subclass on failure."""
        ...


def retry_after_header(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds from a `retry-after-ms` or `Retry-After` header (delta seconds or an HTTP date), if any."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - (now if now is not None else time.time()))


def is_timeout(exc: BaseException) -> bool:
    """Whether an HTTP client exception is a timeout, whichever HTTP library the SDK is built on."""
    return isinstance(exc, TimeoutError) or any("Timeout" in cls.__name__ for cls in type(exc).__mro__)
