"""The shared circuit breaker: transitions under an injected clock, one trial call, state across processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from redis.asyncio import Redis

from ai.breaker_main import CONFIG
from ai.conftest import AI_REDIS_URL
from autodevops.ai import metrics
from autodevops.ai.breaker import CircuitBreaker, Permit

NORMAL = Permit(trial=False)


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make(redis: Redis, prefix: str, clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(redis, prefix=prefix, provider="gemini", model="m", config=CONFIG, clock=clock)


async def test_opens_after_n_failures_within_the_window(ai_redis: Redis, ai_prefix: str) -> None:
    clock = Clock()
    breaker = make(ai_redis, ai_prefix, clock)
    for _ in range(3):
        await breaker.failure(NORMAL)
    clock.now += 61  # those three fall out of the window
    for _ in range(3):
        await breaker.failure(NORMAL)
    assert await breaker.state() == "closed"
    assert await breaker.acquire() == Permit(trial=False)
    await breaker.failure(NORMAL)
    assert await breaker.state() == "open"
    assert await breaker.acquire() is None
    assert metrics.REGISTRY.get_sample_value("autodevops_ai_breaker_state", {"provider": "gemini", "model": "m"}) == 1


async def test_half_open_allows_a_single_trial_then_closes(ai_redis: Redis, ai_prefix: str) -> None:
    clock = Clock()
    breaker = make(ai_redis, ai_prefix, clock)
    await breaker.open_until(clock.now + 30)
    clock.now += 29.9
    assert await breaker.acquire() is None
    clock.now += 0.2
    assert await breaker.state() == "half_open"
    permits = await asyncio.gather(*(make(ai_redis, ai_prefix, clock).acquire() for _ in range(10)))
    trials = [p for p in permits if p is not None]
    assert len(trials) == 1
    assert trials[0].trial
    await breaker.success(trials[0])
    assert await breaker.state() == "closed"
    assert await breaker.acquire() == Permit(trial=False)


async def test_failed_trial_reopens_for_another_cooldown(ai_redis: Redis, ai_prefix: str) -> None:
    clock = Clock()
    breaker = make(ai_redis, ai_prefix, clock)
    await breaker.open_until(clock.now)
    trial = await breaker.acquire()
    assert trial is not None
    assert trial.trial
    await breaker.failure(trial)
    assert await breaker.acquire() is None
    clock.now += CONFIG.cooldown_s
    again = await breaker.acquire()
    assert again is not None
    assert again.trial


async def test_unused_trial_is_given_back(ai_redis: Redis, ai_prefix: str) -> None:
    clock = Clock()
    breaker = make(ai_redis, ai_prefix, clock)
    await breaker.open_until(clock.now)
    trial = await breaker.acquire()
    assert trial is not None
    assert await breaker.acquire() is None
    await breaker.release(trial)
    assert (await breaker.acquire()) is not None


def run(prefix: str, action: str, now: float) -> subprocess.Popen[str]:
    script = Path(__file__).with_name("breaker_main.py")
    return subprocess.Popen(
        [sys.executable, str(script), prefix, action, str(now), AI_REDIS_URL],
        stdout=subprocess.PIPE,
        text=True,
        cwd=script.parent.parent,
    )


async def test_state_is_shared_by_processes(ai_redis: Redis, ai_prefix: str) -> None:
    now = 2_000_000.0
    # Four processes record one failure each: together they reach the threshold of four.
    procs = [run(ai_prefix, "fail", now) for _ in range(4)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    breaker = make(ai_redis, ai_prefix, Clock(now))
    assert await breaker.state() == "open"
    # After the cooldown, two processes race for the half-open trial: exactly one wins.
    later = now + CONFIG.cooldown_s + 1
    racers = [run(ai_prefix, "acquire", later) for _ in range(2)]
    answers = sorted(p.communicate(timeout=60)[0].strip() for p in racers)
    assert answers == ["open", "trial"]
