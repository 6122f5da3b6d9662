"""The router: the ordered provider/model entries from settings, each behind its breaker and quota.

For one digest it returns a validated `AIReview` or says why there is none:

1. the cache (any entry's answer for this digest) — a hit makes no provider call;
2. each entry in order (default Gemini Flash first): skipped while its breaker is open; over quota it waits
   briefly, then moves on; a retryable error or timeout is retried with exponential backoff and jitter,
   honouring the provider's Retry-After / retryDelay (longer than `ai_retry_after_max_s`: move on); a spent
   daily quota opens the breaker until the reset; a fatal error moves on;
3. an answer that is not valid JSON for the schema gets one repair request; still invalid, the router stops
   (`AIUnavailable("invalid-output")`) and the rules stand.

Every call, failed or not, is returned with its tokens and cost, so nothing billed goes unrecorded.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pydantic import ValidationError
from redis.asyncio import Redis

from autodevops.ai import metrics
from autodevops.ai.breaker import BreakerConfig, CircuitBreaker, Permit
from autodevops.ai.cache import ResponseCache
from autodevops.ai.cost import call_cost_usd
from autodevops.ai.digest import Digest
from autodevops.ai.entries import Entry, enabled_providers
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
from autodevops.ai.quota import QuotaExceeded, QuotaManager
from autodevops.ai.schemas import REPAIR_PROMPT, SYSTEM_PROMPT, AIReview, json_schema
from autodevops.config import Settings
from autodevops.logging import get_logger
from autodevops.redis_clients import background_client

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One provider call: who answered, what it cost, how it ended."""

    provider: str
    model: str
    outcome: str
    input_tokens: int
    output_tokens: int
    cost_usd: float


@dataclass
class RouterResult:
    review: AIReview
    entry: str
    cached: bool
    calls: list[CallRecord] = field(default_factory=list)


class AIUnavailable(Exception):
    """No validated answer: `reason` is not-configured, unavailable or invalid-output; `calls` were billed."""

    def __init__(self, reason: str, detail: str = "", calls: list[CallRecord] | None = None) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.calls = calls or []


class AIQuotaExceeded(QuotaExceeded):
    """Every usable entry is over its per-minute quota; `calls` were billed before that."""

    def __init__(self, provider: str, retry_after_s: float, calls: list[CallRecord]) -> None:
        super().__init__(provider, retry_after_s)
        self.calls = calls


def configured_providers(settings: Settings) -> dict[str, Provider]:
    """The providers that can be called with these settings (a key, or a self-hosted OpenAI-compatible URL)."""
    from autodevops.ai.providers.anthropic import AnthropicProvider
    from autodevops.ai.providers.gemini import GeminiProvider
    from autodevops.ai.providers.openai_compat import OpenAICompatProvider

    timeout = settings.ai_timeout_s
    enabled = enabled_providers(settings)
    providers: dict[str, Provider] = {}
    if settings.gemini_api_key is not None:
        providers["gemini"] = GeminiProvider(
            api_key=settings.gemini_api_key.get_secret_value(), base_url=settings.ai_gemini_base_url, timeout_s=timeout
        )
    if "openai" in enabled:
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        providers["openai"] = OpenAICompatProvider(api_key=key, base_url=settings.ai_openai_base_url, timeout_s=timeout)
    if settings.anthropic_api_key is not None:
        providers["anthropic"] = AnthropicProvider(
            api_key=settings.anthropic_api_key.get_secret_value(),
            base_url=settings.ai_anthropic_base_url,
            timeout_s=timeout,
        )
    return providers


def parse_review(text: str) -> AIReview:
    """The answer as an `AIReview`; a JSON object wrapped in prose or a code fence is accepted."""
    candidate = text.strip()
    if not candidate.startswith("{"):
        start, end = candidate.find("{"), candidate.rfind("}")
        if start != -1 and end > start:
            candidate = candidate[start : end + 1]
    return AIReview.model_validate(json.loads(candidate))


class Router:
    """Routes one review request over the configured entries. One per worker process (shares Redis)."""

    def __init__(
        self,
        settings: Settings,
        *,
        redis: Redis | None = None,
        providers: dict[str, Provider] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.redis = redis if redis is not None else background_client(settings.redis_url, decode=False)
        self._own_redis = redis is None
        self.providers = providers if providers is not None else configured_providers(settings)
        self.entries = [Entry(*e.split(":", 1)) for e in settings.ai_models if e.split(":", 1)[0] in self.providers]
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        prefix = settings.ai_key_prefix
        self.cache = ResponseCache(self.redis, prefix=prefix, ttl_s=settings.ai_cache_ttl_s)
        self.quota = QuotaManager(
            settings.redis_url,
            prefix=f"{prefix}:quota",
            requests_per_minute=settings.ai_requests_per_minute,
            tokens_per_minute=settings.ai_tokens_per_minute,
            max_wait_s=settings.ai_quota_max_wait_s,
            sleep=sleep,
        )
        config = BreakerConfig.from_settings(settings)
        self.breakers = {
            e.key: CircuitBreaker(
                self.redis, prefix=prefix, provider=e.provider, model=e.model, config=config, clock=clock
            )
            for e in self.entries
        }
        self.schema = json_schema()

    @property
    def configured(self) -> bool:
        return bool(self.entries)

    async def aclose(self) -> None:
        if self._own_redis:
            await self.redis.aclose()

    def _backoff_s(self, retry: int, retry_after_s: float | None) -> float:
        """Exponential backoff with full jitter; a provider's Retry-After is a floor (plus up to 10%)."""
        backoff = min(self.settings.ai_backoff_max_s, self.settings.ai_backoff_base_s * 2**retry)
        delay = self.rng.uniform(0, backoff)
        if retry_after_s is not None:
            delay = max(delay, retry_after_s * self.rng.uniform(1.0, 1.1))
        return delay

    def _record(self, calls: list[CallRecord], entry: Entry, outcome: str, usage: Usage) -> None:
        cost = call_cost_usd(self.settings, entry.key, usage)
        calls.append(CallRecord(entry.provider, entry.model, outcome, usage.input_tokens, usage.output_tokens, cost))
        metrics.CALLS.labels(entry.provider, entry.model, outcome).inc()
        if usage.input_tokens:
            metrics.TOKENS.labels(entry.provider, entry.model, "input").inc(usage.input_tokens)
        if usage.output_tokens:
            metrics.TOKENS.labels(entry.provider, entry.model, "output").inc(usage.output_tokens)
        if cost:
            metrics.COST.labels(entry.provider, entry.model).inc(cost)

    async def _call(self, entry: Entry, messages: list[Message]) -> ProviderResponse:
        provider = self.providers[entry.provider]
        timeout = self.settings.ai_timeout_s
        try:
            # The SDK has its own timeout; this one also bounds connection set-up and a stuck event loop.
            return await asyncio.wait_for(
                provider.generate(
                    model=entry.model,
                    system=SYSTEM_PROMPT,
                    messages=messages,
                    schema=self.schema,
                    max_output_tokens=self.settings.ai_max_output_tokens,
                    timeout_s=timeout,
                ),
                timeout + 1.0,
            )
        except TimeoutError as exc:
            raise ProviderTimeoutError(f"{entry.key}: no answer within {timeout:g}s") from exc

    async def review(self, digest: Digest, *, calls_allowed: bool = True) -> RouterResult:
        """A validated review of `digest`, from the cache or the first entry that gives one.

        `calls_allowed=False` (the organization's monthly token budget is spent): the cache only, which costs
        nothing; a miss is `AIUnavailable("budget-exhausted")`.
        """
        if not self.entries:
            raise AIUnavailable("not-configured", "no AI provider has credentials or a base URL")
        cached = await self.cache.get([e.key for e in self.entries], digest.sha256)
        if cached is not None:
            return RouterResult(review=cached[1], entry=cached[0], cached=True)
        if not calls_allowed:
            raise AIUnavailable("budget-exhausted", "the organization's AI tokens for this month are used up")
        calls: list[CallRecord] = []
        over_quota: QuotaExceeded | None = None
        reserve = digest.tokens + len(SYSTEM_PROMPT) // 3 + self.settings.ai_max_output_tokens
        for index, entry in enumerate(self.entries):
            made = len(calls)
            reason = "breaker_open"
            try:
                review = await self._try_entry(entry, digest, calls, reserve)
            except QuotaExceeded as exc:
                over_quota = exc if over_quota is None or exc.retry_after_s < over_quota.retry_after_s else over_quota
                review, reason = None, "over_quota"
            if review is not None:
                await self.cache.put(entry.key, digest.sha256, review)
                return RouterResult(review=review, entry=entry.key, cached=False, calls=calls)
            if index + 1 < len(self.entries):
                # Why this entry was left: its last call's outcome, or why no call was made.
                left_because = calls[-1].outcome if len(calls) > made else reason
                metrics.FALLBACKS.labels(entry.provider, entry.model, left_because).inc()
        if over_quota is not None:
            raise AIQuotaExceeded(over_quota.provider, over_quota.retry_after_s, calls)
        raise AIUnavailable("unavailable", "every AI provider failed or is switched off by its breaker", calls)

    async def _try_entry(self, entry: Entry, digest: Digest, calls: list[CallRecord], reserve: int) -> AIReview | None:
        """This entry's validated answer, or None to move on. Raises `AIUnavailable` for invalid output."""
        breaker = self.breakers[entry.key]
        messages = [Message("user", digest.text)]
        repaired = False
        retry = 0
        while True:
            permit = await breaker.acquire()
            if permit is None:
                log.info("AI entry skipped: breaker open", entry=entry.key)
                return None
            try:
                await self.quota.acquire(entry.provider, reserve)
            except QuotaExceeded:
                await breaker.release(permit)
                log.info("AI entry over quota", entry=entry.key)
                raise
            try:
                return await self._attempt(entry, breaker, permit, messages, calls)
            except (RetryableError, ProviderTimeoutError) as exc:
                retry_after = exc.retry_after_s if isinstance(exc, RetryableError) else None
                if retry >= self.settings.ai_retries or (
                    retry_after is not None and retry_after > self.settings.ai_retry_after_max_s
                ):
                    log.warning("AI entry failed; falling back", entry=entry.key, error=str(exc))
                    return None
                await self.sleep(self._backoff_s(retry, retry_after))
                retry += 1
                continue
            except (QuotaDailyError, FatalError) as exc:
                log.warning("AI entry failed; falling back", entry=entry.key, error=str(exc))
                return None
            except InvalidOutputError as exc:
                if repaired:
                    raise AIUnavailable("invalid-output", f"{entry.key}: {exc}", calls) from exc
                repaired = True
                messages = [
                    *messages,
                    Message("assistant", exc.text or "{}"),
                    Message("user", REPAIR_PROMPT.format(error=str(exc))),
                ]

    async def _attempt(
        self, entry: Entry, breaker: CircuitBreaker, permit: Permit, messages: list[Message], calls: list[CallRecord]
    ) -> AIReview:
        """One call and its validated answer; records usage and outcome and tells the breaker.

        An answer that is not the schema's JSON raises `InvalidOutputError` (the provider is up: the breaker
        counts it as a success).
        """
        try:
            response = await self._call(entry, messages)
            try:
                review = parse_review(response.text)
            except (ValueError, ValidationError) as exc:
                raise InvalidOutputError(_short(exc), text=response.text, usage=response.usage) from exc
        except asyncio.CancelledError:
            await asyncio.shield(breaker.failure(permit))
            self._record(calls, entry, "cancelled", Usage())
            raise
        except QuotaDailyError as exc:
            until = self.clock() + (exc.reset_after_s or self.settings.ai_breaker_cooldown_s)
            await breaker.open_until(until)
            self._record(calls, entry, exc.kind, exc.usage)
            raise
        except InvalidOutputError as exc:
            await breaker.success(permit)  # the provider is up; the answer is the problem
            self._record(calls, entry, exc.kind, exc.usage)
            raise
        except ProviderError as exc:
            await breaker.failure(permit)
            self._record(calls, entry, exc.kind, exc.usage)
            raise
        await breaker.success(permit)
        self._record(calls, entry, "ok", response.usage)
        return review


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
    return str(exc)[:300]
