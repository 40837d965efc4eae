"""`max_containers` per host, enforced atomically across every worker process.

A create counts the host's fleet containers *on the engine* and creates under
one Redis lock per host, so the count is the truth (containers removed behind
the fleet's back free their slot) and two racing workers cannot both take the
last slot. The lock expires by itself if its holder dies, and is taken and
released with a token (`dockfleet.owned_key`), so a Redis restart in the
middle of either costs a pause, never a lock that nobody holds.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from dockfleet import keys, owned_key
from dockfleet.errors import EngineBusy
from dockfleet.redis_retry import UNAVAILABLE, retrying

log = logging.getLogger(__name__)
#: a holder that died frees the lock after this long; a create takes milliseconds
LOCK_TIMEOUT_MS = 60_000
#: how often a waiter looks again, at most (it starts at a few milliseconds)
MAX_POLL_SECONDS = 0.1


@contextmanager
def host_slot_lock(client: redis.Redis, host: str, wait_seconds: float) -> Iterator[None]:
    key, token = keys.host_slots_lock(host), uuid.uuid4().hex
    deadline = time.monotonic() + wait_seconds
    delay = 0.005
    while not retrying(
        lambda: owned_key.take(client, key, token, LOCK_TIMEOUT_MS), "taking a container slot"
    ):
        if time.monotonic() >= deadline:
            raise EngineBusy(f"host {host!r}: waited {wait_seconds}s for the container-slot lock")
        time.sleep(delay)
        delay = min(delay * 2, MAX_POLL_SECONDS)
    try:
        yield
    finally:
        try:
            retrying(lambda: owned_key.release(client, key, token), "freeing a container slot")
        except UNAVAILABLE:  # Redis stayed away: the lock lapses by itself
            log.warning("could not release the container-slot lock of host %s", host)
