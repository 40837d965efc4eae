"""`max_containers` per host, enforced atomically across every worker process.

A create counts the host's fleet containers *on the engine* and creates under
one Redis lock per host, so the count is the truth (containers removed behind
the fleet's back free their slot) and two racing workers cannot both take the
last slot. The lock is taken and released with a token (`dockfleet.store.owned_keys`),
so a Redis restart in the middle of either costs a pause, never a lock that
nobody holds.

The lock has a short TTL, renewed while it is held (`worker.process.keeper`): a slow
engine call keeps it as long as it needs, and a holder that dies frees it
within `LOCK_TTL_SECONDS`. A holder that was paused past the TTL learns at
release that the lock was not its own to the end (`SlotHold.kept`): another
create may have counted the host without its container, so the caller counts
again (`recount`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from dockfleet import keys
from dockfleet.errors import SlotsBusy
from dockfleet.redis_retry import UNAVAILABLE, retrying
from dockfleet.store import owned_keys
from dockfleet.store.redis_types import Client
from worker.process.keeper import Keeper

log = logging.getLogger(__name__)
#: a holder that died frees the lock after this long; a live one renews it
LOCK_TTL_SECONDS = 10
#: how often a waiter looks again, at most (it starts at a few milliseconds)
MAX_POLL_SECONDS = 0.1


@dataclass
class SlotHold:
    #: the lock stayed ours from take to release (known once the block has ended)
    kept: bool = False


@contextmanager
def host_slot_lock(client: Client, host: str, wait_seconds: float) -> Iterator[SlotHold]:
    key, token, ttl_ms = keys.host_slots_lock(host), uuid.uuid4().hex, LOCK_TTL_SECONDS * 1000
    taken = owned_keys.wait_to_take(
        lambda: retrying(
            lambda: owned_keys.take(client, key, token, ttl_ms), "taking a container slot"
        ),
        wait_seconds,
        max_poll=MAX_POLL_SECONDS,
    )
    if not taken:
        raise SlotsBusy(host, wait_seconds)
    keeper = Keeper(
        f"the container-slot lock of host {host}",
        LOCK_TTL_SECONDS,
        lambda: owned_keys.renew(client, key, token, ttl_ms),
    ).start()
    hold = SlotHold()
    try:
        yield hold
    finally:
        keeper.stop()
        try:
            hold.kept = retrying(
                lambda: owned_keys.release(client, key, token), "freeing a container slot"
            )
        except UNAVAILABLE:  # Redis stayed away: the lock lapses by itself
            log.warning("could not release the container-slot lock of host %s", host)
        if not hold.kept:
            log.warning("the container-slot lock of host %s lapsed while held", host)
