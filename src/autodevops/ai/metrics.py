"""AI layer metrics, in the platform's registry (`autodevops.metrics.REGISTRY`), named `autodevops_ai_*`.

Updated by the process that calls the providers (the worker). Breaker state is what this process last saw
in Redis (0 closed, 1 open, 2 half-open): every worker reports the shared state it acts on.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from autodevops.metrics import REGISTRY

CALLS = Counter(
    "autodevops_ai_calls_total",
    "Provider calls, by provider, model and outcome (ok, retryable, timeout, quota_daily, invalid_output, fatal).",
    ["provider", "model", "outcome"],
    registry=REGISTRY,
)
TOKENS = Counter(
    "autodevops_ai_tokens_total",
    "Tokens billed by the providers, by provider, model and direction (input, output).",
    ["provider", "model", "direction"],
    registry=REGISTRY,
)
COST = Counter(
    "autodevops_ai_cost_usd_total",
    "Cost of provider calls in US dollars, at the configured price table.",
    ["provider", "model"],
    registry=REGISTRY,
)
CACHE = Counter(
    "autodevops_ai_cache_total",
    "Response cache lookups, by result (hit, miss).",
    ["result"],
    registry=REGISTRY,
)
FALLBACKS = Counter(
    "autodevops_ai_fallbacks_total",
    "Times the router moved past an entry to the next one, by the entry left and why.",
    ["provider", "model", "reason"],
    registry=REGISTRY,
)
BREAKER_STATE = Gauge(
    "autodevops_ai_breaker_state",
    "Circuit breaker state per provider and model: 0 closed, 1 open, 2 half-open.",
    ["provider", "model"],
    registry=REGISTRY,
)
REVIEWS = Counter(
    "autodevops_ai_reviews_total",
    "Analyses reviewed, by outcome (applied, cached, rules_only).",
    ["outcome"],
    registry=REGISTRY,
)

STATE_VALUES = {"closed": 0, "open": 1, "half_open": 2}
