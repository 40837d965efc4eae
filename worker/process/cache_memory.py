"""What this worker process last wrote to the state cache, so the follower need not redo it.

The state-cache follower handles every event of every fleet container: an inspect
and a write per event, a read per exit, a drop per removal. Most of that was
already done a moment before in this same process: a task's own write
(read-your-writes), the follower's write for the previous event, a remover's drop.
This memory holds those writes (only the ones the cache applied, so each entry is
what the cache held when written) and the removals under way, so the follower can
skip an inspect or a Redis round trip whose answer it already has.

Knowing less is always safe: the follower then does the full work, as a worker
whose tasks run in other processes (prefork) always does. So the memory forgets
whatever it cannot vouch for: an entry whose write the cache refused (a newer one
is there), a dropped container, everything at a resync.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

from dockfleet.models import ContainerInfo

#: Entries kept, newest first out last; well above a host's `max_containers`.
CAPACITY = 4096


class CacheMemory:
    """The summaries this process wrote (and the cache applied), the containers it dropped,
    and its removals under way."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._reset()

    def _reset(self) -> None:
        # Also in a forked child: a lock another thread held at the fork stays held there.
        self._lock = threading.Lock()
        #: container id -> the summary written, or None once dropped
        self._written: OrderedDict[str, ContainerInfo | None] = OrderedDict()
        #: container id -> whether its "destroy" event came (the remover drops it then)
        self._removing: dict[str, bool] = {}
        #: names of containers being made whose start follows at once (`start_follows`)
        self._starting: set[str] = set()
        self._generation = 0

    def generation(self) -> int:
        """Take before a write and give to `wrote`: a write that raced a `forget_all` is not
        noted (the resync may have replaced it)."""
        return self._generation

    def wrote(self, info: ContainerInfo, applied: bool, generation: int) -> None:
        """Note a write: the cache now holds `info` if `applied`, else something newer."""
        self._note(info.id, info if applied else None, keep=applied, generation=generation)

    def dropped(self, container_id: str) -> None:
        """Note a drop: the container is gone for good (ids are never reused)."""
        self._note(container_id, None, keep=True, generation=self._generation)

    def last(self, container_id: str) -> ContainerInfo | None:
        """What this process last wrote of the container, if the cache took it."""
        with self._lock:
            return self._written.get(container_id)

    def is_dropped(self, container_id: str) -> bool:
        """True if this process dropped the container (it is gone)."""
        with self._lock:
            return container_id in self._written and self._written[container_id] is None

    def forget_all(self) -> None:
        """Forget every write (a resync merged the engine's listing into the cache)."""
        with self._lock:
            self._written.clear()
            self._generation += 1

    def _note(
        self, container_id: str, info: ContainerInfo | None, *, keep: bool, generation: int
    ) -> None:
        with self._lock:
            self._written.pop(container_id, None)
            if keep and generation == self._generation:
                self._written[container_id] = info
                if len(self._written) > self._capacity:
                    self._written.popitem(last=False)

    def removal_begins(self, container_id: str) -> None:
        with self._lock:
            self._removing[container_id] = False

    def removal_ends(self, container_id: str) -> bool:
        """End a removal; True if its "destroy" event was left to it (it must drop then)."""
        with self._lock:
            return self._removing.pop(container_id, False)

    def leave_drop_to_remover(self, container_id: str) -> bool:
        """True if a removal of the container is under way in this process: its remover
        drops the entry once the engine answers, so the "destroy" event need not."""
        with self._lock:
            if container_id not in self._removing:
                return False
            self._removing[container_id] = True
            return True

    def start_follows(self, name: str) -> None:
        """A container named `name` is about to be made and started at once: its "create"
        needs no inspect, the "start" right after brings one (`start_done` ends this)."""
        with self._lock:
            self._starting.add(name)

    def start_done(self, name: str) -> None:
        """The start that `start_follows` announced was sent, or will not be."""
        with self._lock:
            self._starting.discard(name)

    def starts_soon(self, name: str) -> bool:
        """True while a container named `name` is between its create and its start."""
        with self._lock:
            return name in self._starting


#: The one memory of this process (tasks and the follower share it in a threads pool).
memory = CacheMemory()
os.register_at_fork(after_in_child=memory._reset)
