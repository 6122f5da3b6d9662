"""The retry schedule: when attempt k of a failed job runs.

Attempt 1 runs immediately; attempt 2 after 30 s, attempt 3 after 2 min, and every later attempt waits four
times longer than the one before (8 min, 32 min, ...). Each delay gets ±20% uniform jitter so a burst of
jobs that failed together (a provider outage) does not retry in lockstep. `time_scale` shrinks every delay
(tests run the real schedule in seconds).
"""

from __future__ import annotations

import random

JITTER = 0.20
FIRST_RETRY_S = 30.0
SECOND_RETRY_S = 120.0
GROWTH = 4.0


def base_delay_s(attempt: int) -> float:
    """The delay before `attempt` (1-based) without jitter: 0, 30, 120, 480, 1920, ... seconds."""
    if attempt < 1:
        raise ValueError(f"attempts are numbered from 1, got {attempt}")
    if attempt == 1:
        return 0.0
    if attempt == 2:
        return FIRST_RETRY_S
    return SECOND_RETRY_S * GROWTH ** (attempt - 3)


def retry_delay_s(attempt: int, *, time_scale: float = 1.0, rng: random.Random | None = None) -> float:
    """The jittered, scaled delay before `attempt`: within ±20% of `base_delay_s(attempt) * time_scale`."""
    base = base_delay_s(attempt) * time_scale
    if base == 0.0:
        return 0.0
    factor = (rng or _rng).uniform(1.0 - JITTER, 1.0 + JITTER)
    return base * factor


# Jitter only has to decorrelate workers, not be unpredictable to an attacker.
_rng = random.Random()  # noqa: S311
