"""Keeps held Redis keys alive from one background thread, and says when one was lost.

A lock or lease held with a short TTL outlives a slow holder only while it is
renewed, and lapses soon after its holder dies or is paused: the TTL bounds
how long a dead holder blocks everyone else, the renewal lets a live one hold
as long as it needs. Renewal runs every third of the TTL; a renewal that finds
the key gone or someone else's sets `lost`, and the holder checks that flag
(or its own fenced writes fail) before it acts again.

Every hold of the process (a job's lease, a host's container-slot lock) is
renewed by one thread, `renewals`: each job holds two for a few hundred
milliseconds, and a thread started and joined per hold cost more CPU (~0.3 ms
each on a small VM) than the renewals themselves. Renewals are short Redis
calls bounded by the client's answer timeout; the TTL's two spare thirds
absorb one held up behind another.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable

from dockfleet.store.redis_types import StoreError

log = logging.getLogger(__name__)
#: seconds `Keeper.stop` waits for a renewal under way to end
STOP_WAIT = 5.0


class Keeper:
    def __init__(self, name: str, ttl_seconds: float, renew: Callable[[], bool]) -> None:
        """`renew` extends the hold: True while ours, False once it is not."""
        self.name = name
        self.renew = renew
        self.interval = ttl_seconds / 3
        self.lost = threading.Event()
        self.stopped = False
        #: which start this is: a renewal scheduled before a restart is not done twice
        self.generation = 0
        # held by a renewal under way, so that `stop` can wait for it
        self._renewing = threading.Lock()

    def start(self) -> Keeper:
        self.stopped = False
        self.generation += 1
        renewals.add(self)
        return self

    def stop(self) -> None:
        """No renewal after this returns (one under way is waited for, up to `STOP_WAIT`)."""
        waited = self._renewing.acquire(timeout=STOP_WAIT)
        self.stopped = True
        if waited:
            self._renewing.release()

    def renew_once(self) -> None:
        with self._renewing:
            if self.stopped or self.lost.is_set():
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


class Renewals:
    """The one thread that renews every started `Keeper` at its interval, until stopped."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        # Also in a forked child: the parent's thread is not there, nor are its holds.
        self._changed = threading.Condition()
        #: (when due, order of adding, the keeper's generation, keeper), soonest first
        self._due: list[tuple[float, int, int, Keeper]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, keeper: Keeper) -> None:
        with self._changed:
            self._schedule(keeper)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="dockfleet-keeper", daemon=True
                )
                self._thread.start()
            self._changed.notify()

    def holds(self) -> int:
        """How many keepers are due a renewal (stopped ones leave at their next turn)."""
        with self._changed:
            return sum(1 for entry in self._due if not _stale(entry))

    def _schedule(self, keeper: Keeper) -> None:
        due = time.monotonic() + keeper.interval
        heapq.heappush(self._due, (due, next(self._order), keeper.generation, keeper))

    def _run(self) -> None:
        while True:
            entry = self._next()
            keeper = entry[3]
            try:
                keeper.renew_once()
            except Exception:  # a bug in one renewal must not end everyone's
                log.exception("renewing %s failed", keeper.name)
            with self._changed:
                if not _stale(entry):
                    self._schedule(keeper)

    def _next(self) -> tuple[float, int, int, Keeper]:
        """Wait for the soonest renewal that is due; stopped keepers are dropped on the way."""
        with self._changed:
            while True:
                while self._due and _stale(self._due[0]):
                    heapq.heappop(self._due)
                if self._due:
                    wait = self._due[0][0] - time.monotonic()
                    if wait <= 0:
                        return heapq.heappop(self._due)
                    self._changed.wait(wait)
                else:
                    self._changed.wait()


def _stale(entry: tuple[float, int, int, Keeper]) -> bool:
    """True if the entry's keeper stopped, or was started again since it was scheduled."""
    _, _, generation, keeper = entry
    return keeper.stopped or generation != keeper.generation


#: The renewals of this process.
renewals = Renewals()
os.register_at_fork(after_in_child=renewals._reset)
