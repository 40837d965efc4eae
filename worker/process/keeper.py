"""Keeps a held Redis key alive from a background thread, and says when it was lost.

A lock or lease held with a short TTL outlives a slow holder only while it is
renewed, and lapses soon after its holder dies or is paused: the TTL bounds
how long a dead holder blocks everyone else, the renewal lets a live one hold
as long as it needs. Renewal runs every third of the TTL; a renewal that finds
the key gone or someone else's sets `lost`, and the holder checks that flag
(or its own fenced writes fail) before it acts again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from dockfleet.store.redis_types import StoreError
from worker.process.periodic import Periodic

log = logging.getLogger(__name__)


class Keeper:
    def __init__(self, name: str, ttl_seconds: float, renew: Callable[[], bool]) -> None:
        """`renew` extends the hold: True while ours, False once it is not."""
        self.name = name
        self.renew = renew
        self.lost = threading.Event()
        self._renewals = Periodic(f"keep-{name}", ttl_seconds / 3, self._renew_once)

    def start(self) -> Keeper:
        self._renewals.start()
        return self

    def stop(self) -> None:
        self._renewals.stop()

    def _renew_once(self) -> None:
        if self.lost.is_set():
            return  # the holder retakes it (or stops) at its next check
        try:
            held = self.renew()
        except StoreError:
            log.warning("could not renew %s; retrying", self.name, exc_info=True)
            return
        if not held:
            # Lapsed (the holder was paused, or Redis was away, longer than the
            # TTL) or taken over.
            log.error("lost %s", self.name)
            self.lost.set()
