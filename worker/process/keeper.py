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

log = logging.getLogger(__name__)


class Keeper:
    def __init__(self, name: str, ttl_seconds: float, renew: Callable[[], bool]) -> None:
        """`renew` extends the hold: True while ours, False once it is not."""
        self.name = name
        self.interval = ttl_seconds / 3
        self.renew = renew
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"keep-{name}", daemon=True)

    def start(self) -> Keeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if self.lost.is_set():
                continue  # the holder retakes it (or stops) at its next check
            try:
                held = self.renew()
            except StoreError:
                log.warning("could not renew %s; retrying", self.name, exc_info=True)
                continue
            if not held:
                # Lapsed (the holder was paused, or Redis was away, longer than the
                # TTL) or taken over.
                log.error("lost %s", self.name)
                self.lost.set()
