"""What a call cost: tokens from the provider's usage data times the price table in settings."""

from __future__ import annotations

from autodevops.ai.providers.base import Usage
from autodevops.config import Settings
from autodevops.logging import get_logger

log = get_logger(__name__)


def call_cost_usd(settings: Settings, entry: str, usage: Usage) -> float:
    """USD for `usage` on `entry` ("provider:model") at `settings.ai_prices` (0 for an unpriced model)."""
    price = settings.ai_prices.get(entry)
    if price is None:
        if usage.input_tokens or usage.output_tokens:
            log.warning("no price for AI model; its cost is counted as 0", entry=entry)
        return 0.0
    return (usage.input_tokens * price.input_per_mtok + usage.output_tokens * price.output_per_mtok) / 1_000_000
