"""The retry schedule itself: base delays and jitter bounds (pure, no services)."""

from __future__ import annotations

import random

import pytest

from autodevops.jobs.queues import QUEUES, in_priority_order
from autodevops.jobs.retry import base_delay_s, retry_delay_s


def test_base_delays_follow_the_documented_schedule() -> None:
    assert [base_delay_s(k) for k in range(1, 7)] == [0, 30, 120, 480, 1920, 7680]


@pytest.mark.parametrize("attempt", [2, 3, 4, 5])
def test_jitter_stays_within_twenty_percent_and_actually_varies(attempt: int) -> None:
    rng = random.Random(attempt)
    base = base_delay_s(attempt)
    samples = [retry_delay_s(attempt, rng=rng) for _ in range(2000)]
    assert min(samples) >= base * 0.8
    assert max(samples) <= base * 1.2
    # Both halves of the band are used: the jitter spreads retries out instead of shifting them.
    assert min(samples) < base * 0.85
    assert max(samples) > base * 1.15


def test_time_scale_shrinks_every_delay() -> None:
    rng = random.Random(1)
    delay = retry_delay_s(2, time_scale=0.01, rng=rng)
    assert 0.24 <= delay <= 0.36


def test_first_attempt_is_immediate_and_attempts_count_from_one() -> None:
    assert retry_delay_s(1) == 0.0
    with pytest.raises(ValueError, match="from 1"):
        base_delay_s(0)


def test_queues_in_priority_order_ignores_the_order_asked_for() -> None:
    assert [q.name for q in in_priority_order(["ci_generation", "analysis", "sync"])] == [
        "analysis",
        "sync",
        "ci_generation",
    ]
    assert [(q.name, q.timeout_s, q.max_attempts) for q in QUEUES] == [
        ("analysis", 300.0, 3),
        ("sync", 120.0, 5),
        ("ci_generation", 180.0, 2),
    ]
    with pytest.raises(KeyError, match="unknown queue"):
        in_priority_order(["nope"])
