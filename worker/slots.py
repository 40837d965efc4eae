"""`max_containers` per host, enforced atomically across every worker process.

A create counts the host's fleet containers *on the engine* and creates under
one Redis lock per host, so the count is the truth (containers removed behind
the fleet's back free their slot) and two racing workers cannot both take the
last slot. The lock expires by itself if its holder dies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis
import redis.exceptions

from dockfleet import keys
from dockfleet.errors import EngineBusy

#: a holder that died frees the lock after this long; a create takes milliseconds
LOCK_TIMEOUT_SECONDS = 60.0


@contextmanager
def host_slot_lock(client: redis.Redis, host: str, wait_seconds: float) -> Iterator[None]:
    lock = client.lock(
        keys.host_slots_lock(host), timeout=LOCK_TIMEOUT_SECONDS, blocking_timeout=wait_seconds
    )
    if not lock.acquire():
        raise EngineBusy(f"host {host!r}: waited {wait_seconds}s for the container-slot lock")
    try:
        yield
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:
            pass  # expired while held: the next holder is already in; nothing to undo
