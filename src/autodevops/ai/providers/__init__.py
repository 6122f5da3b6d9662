"""The only callers of AI APIs: one module per provider, each over its official SDK."""

from __future__ import annotations

from autodevops.ai.providers.base import (
    FatalError,
    InvalidOutputError,
    Message,
    Provider,
    ProviderError,
    ProviderResponse,
    ProviderTimeoutError,
    QuotaDailyError,
    RetryableError,
    Usage,
)

__all__ = [
    "FatalError",
    "InvalidOutputError",
    "Message",
    "Provider",
    "ProviderError",
    "ProviderResponse",
    "ProviderTimeoutError",
    "QuotaDailyError",
    "RetryableError",
    "Usage",
]
