"""Jittered exponential backoff for work a worker retries in place (pulls, pushes)."""

from __future__ import annotations

import random

BACKOFF_BASE_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0


def backoff(attempt: int, base: float = BACKOFF_BASE_SECONDS) -> float:
    """Seconds to wait before try `attempt + 1`: full jitter in the upper half of 2**attempt.

    Jitter spreads the retries of many workers apart, so a registry that
    stumbled is not hit by all of them at the same instant.
    """
    ceiling = min(BACKOFF_MAX_SECONDS, base * 2**attempt)
    return random.uniform(ceiling / 2, ceiling)
