"""Rides out a Redis restart: retry an idempotent Redis operation until Redis is back.

Used around job state and log writes on the worker and around the reads a
waiting client makes, so that a restarted Redis (with persistence) costs a
pause, not a job. Only for operations that are safe to repeat.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from dockfleet.store.redis_types import ConnectionLost, TimedOut

log = logging.getLogger(__name__)
T = TypeVar("T")

#: how long an operation waits for Redis to come back before giving up
DEFAULT_PATIENCE_SECONDS = 120.0
UNAVAILABLE = (ConnectionLost, TimedOut)


def retrying(
    operation: Callable[[], T], what: str, patience: float = DEFAULT_PATIENCE_SECONDS
) -> T:
    deadline = time.monotonic() + patience
    delay = 0.1
    while True:
        try:
            return operation()
        except UNAVAILABLE as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("Redis unavailable during %s (%s); retrying in %.1fs", what, exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
