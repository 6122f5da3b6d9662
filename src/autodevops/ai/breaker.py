"""A circuit breaker per provider+model whose state lives in Redis, so every worker agrees.

closed ──(N failures within the window)──▶ open ──(cooldown over)──▶ half-open ──trial ok──▶ closed
                                              ▲                          │
                                              └──────── trial fails ─────┘

- Failures are timestamps in a sorted set trimmed to the window; timeouts and cancellations count.
- In half-open exactly one caller, across all processes, gets the trial call: the trial is a key taken with
  `SET NX PX` inside the same Lua script that checks the state, so two workers can never both win. The key
  expires after `trial_lease_s`, so a worker that dies mid-trial does not wedge the breaker.
- A spent daily quota opens the breaker until the quota resets (`open_until`).

The clock is injectable (`clock()` returns seconds): every script takes "now" as an argument instead of
reading Redis' TIME, so tests move time forward without sleeping.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from redis.asyncio import Redis

from autodevops.ai import metrics

if TYPE_CHECKING:
    from autodevops.config import Settings

Decision = Literal["closed", "open", "trial"]

# KEYS: state hash, trial key. ARGV: now, trial lease (ms).
_ALLOW = """
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'open' then return 'closed' end
local until_ts = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if tonumber(ARGV[1]) < until_ts then return 'open' end
if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[2]) then return 'trial' end
return 'open'
"""

# KEYS: state hash, failures zset, trial key. ARGV: now, window, threshold, cooldown, member, is_trial.
_FAILURE = """
local now = tonumber(ARGV[1])
if ARGV[6] == '1' then
  redis.call('HSET', KEYS[1], 'state', 'open', 'until', now + tonumber(ARGV[4]))
  redis.call('DEL', KEYS[3], KEYS[2])
  return 'open'
end
if redis.call('HGET', KEYS[1], 'state') == 'open' then return 'open' end
redis.call('ZADD', KEYS[2], now, ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[2], math.ceil(tonumber(ARGV[2]) * 1000))
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 'state', 'open', 'until', now + tonumber(ARGV[4]))
  redis.call('DEL', KEYS[2])
  return 'open'
end
return 'closed'
"""

# KEYS: state hash, failures zset, trial key. ARGV: is_trial, trial token.
_SUCCESS = """
if ARGV[1] == '1' and redis.call('GET', KEYS[3]) == ARGV[2] then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
  return 'closed'
end
if redis.call('HGET', KEYS[1], 'state') == 'open' then return 'open' end
return 'closed'
"""

# KEYS: state hash, failures zset, trial key. ARGV: until.
_OPEN_UNTIL = """
redis.call('HSET', KEYS[1], 'state', 'open', 'until', ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3])
return 'open'
"""


# KEYS: trial key. ARGV: token.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    failures: int
    window_s: float
    cooldown_s: float
    trial_lease_s: float

    @classmethod
    def from_settings(cls, settings: Settings) -> BreakerConfig:
        """The configured breaker; a half-open trial call holds its lease for two call timeouts."""
        return cls(
            failures=settings.ai_breaker_failures,
            window_s=settings.ai_breaker_window_s,
            cooldown_s=settings.ai_breaker_cooldown_s,
            trial_lease_s=settings.ai_timeout_s * 2,
        )


@dataclass(frozen=True, slots=True)
class Permit:
    """The right to call: a normal call (`trial` False) or the half-open state's single trial call."""

    trial: bool
    token: str = ""


class CircuitBreaker:
    """The shared breaker of one provider+model."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str,
        provider: str,
        model: str,
        config: BreakerConfig,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.provider = provider
        self.model = model
        self.config = config
        self.clock = clock
        base = f"{prefix}:breaker:{provider}:{model}"
        self._keys = (f"{base}:state", f"{base}:failures", f"{base}:trial")

    def _report(self, state: str) -> None:
        metrics.BREAKER_STATE.labels(self.provider, self.model).set(metrics.STATE_VALUES[state])

    async def acquire(self) -> Permit | None:
        """A permit to call now, or None while the breaker is open (or another caller holds the trial)."""
        token = uuid.uuid4().hex
        lease_ms = max(1, int(self.config.trial_lease_s * 1000))
        decision = await self.redis.eval(_ALLOW, 2, self._keys[0], self._keys[2], self.clock(), lease_ms, token)
        decision = decision.decode() if isinstance(decision, bytes) else str(decision)
        if decision == "closed":
            self._report("closed")
            return Permit(trial=False)
        if decision == "trial":
            self._report("half_open")
            return Permit(trial=True, token=token)
        self._report("open")
        return None

    async def success(self, permit: Permit) -> None:
        """The call succeeded: a successful trial closes the breaker."""
        state = await self.redis.eval(_SUCCESS, 3, *self._keys, "1" if permit.trial else "0", permit.token)
        self._report(state.decode() if isinstance(state, bytes) else str(state))

    async def failure(self, permit: Permit) -> None:
        """The call failed (error, timeout or cancellation): count it; a failed trial re-opens at once."""
        state = await self.redis.eval(
            _FAILURE,
            3,
            *self._keys,
            self.clock(),
            self.config.window_s,
            self.config.failures,
            self.config.cooldown_s,
            uuid.uuid4().hex,
            "1" if permit.trial else "0",
        )
        self._report(state.decode() if isinstance(state, bytes) else str(state))

    async def release(self, permit: Permit) -> None:
        """Give back an unused trial permit (the call never happened), so another caller may try."""
        if permit.trial:
            await self.redis.eval(_RELEASE, 1, self._keys[2], permit.token)

    async def open_until(self, until: float) -> None:
        """Open until the instant `until` (a spent daily quota: until it resets)."""
        await self.redis.eval(_OPEN_UNTIL, 3, *self._keys, until)
        self._report("open")

    async def state(self) -> str:
        """closed, open or half_open, as Redis has it now (for dashboards and tests)."""
        raw = await self.redis.hgetall(self._keys[0])
        values = {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in raw.items()
        }
        if values.get("state") != "open":
            return "closed"
        return "open" if self.clock() < float(values.get("until", 0)) else "half_open"
