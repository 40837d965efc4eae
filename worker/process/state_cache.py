"""The fleet-wide state cache: each worker mirrors its host's fleet containers into Redis.

A thread follows the engine's event stream (fleet containers only) and, for
each event, writes the container's current summary to a Redis hash of its
host, or deletes it once the container is destroyed. A full resync runs at
start, after the stream breaks (a missed event heals there) and every
``state_resync_interval``, so the cache heals itself. Clients then list the whole
fleet from Redis in milliseconds instead of asking every host
(`dockfleet.client.state_cache`).

Writers race: a task's own write (read-your-writes) and the follower's write
for an event each inspect first and write later. The record
(`dockfleet.store.container_cache`) orders them by version, so the later
state of a container wins whichever write lands last.

The follower does not redo what this process already wrote (`cache_memory`): a
"create" or "start" whose summary a task wrote after it needs no inspect, nor does
the "create" of a container this process starts at once (`start_follows`: its
"start" is a moment later), an exit is derived from the summary last written, and a
removal this process makes drops the entry once, by the remover (read-your-writes),
not again for its "destroy".
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime

from dockfleet import labels as fleet_labels
from dockfleet.errors import ContainerNotFound
from dockfleet.models import ContainerInfo
from dockfleet.store import container_cache
from worker.engine import containers as engine
from worker.engine import system as engine_system
from worker.engine.client import EngineClient
from worker.engine.events import ContainerEvent, ContainerEvents
from worker.process.cache_memory import memory
from worker.runtime import Runtime

log = logging.getLogger(__name__)
RETRY_SECONDS = 2.0
RESYNC_PARALLELISM = 8
STATE_CHANGES = frozenset(
    {"create", "start", "restart", "die", "kill", "stop", "oom", "pause", "unpause",
     "destroy", "rename", "update", "health_status"}
)  # fmt: skip
RUNNING = ("running", "paused", "restarting")  # a run began, and has not ended
ENDED = ("exited", "dead")  # a run ended


class StateFollower:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._stop = threading.Event()
        self._stream: ContainerEvents | None = None
        self._thread = threading.Thread(target=self._run, name="state-cache", daemon=True)

    def start(self) -> StateFollower:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._stream is not None:
            self._stream.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.resync()
                self._follow()
            except Exception as exc:  # engine or Redis away: retry, then resync
                if not self._stop.is_set():
                    log.warning("state cache of host %s paused: %s", self.rt.host, exc)
                    self._stop.wait(RETRY_SECONDS)

    def _follow(self) -> None:
        """Apply events until the next periodic resync is due (or the stream breaks)."""
        since = time.time()
        until = since + self.rt.settings.state_resync_interval
        self._stream = stream = ContainerEvents(
            self.rt.docker,
            labels=[f"{fleet_labels.HOST}={self.rt.host}"],
            since=int(since) - 1,
            until=int(until),
        )
        try:
            for event in stream:
                self.apply(event)
        finally:
            stream.close()
            self._stream = None

    def apply(self, event: ContainerEvent) -> None:
        action = event.action.partition(":")[0]
        if action not in STATE_CHANGES:
            return  # exec_*, attach, resize...: the container's state did not change
        container_id = event.container_id
        if not container_id:
            return
        if memory.is_dropped(container_id):
            return  # this process removed it: it is gone, and its entry with it
        if event.action == "destroy":
            if not memory.leave_drop_to_remover(container_id):
                drop(self.rt, container_id)
            return
        if self._written_since(action, container_id):
            return
        if action == "create" and event.name and memory.starts_soon(event.name):
            return  # its "start" comes next, and one inspect then reads both
        if action == "die" and self._exited(container_id, event):
            return
        try:
            info = engine.inspect(self.rt.docker, container_id, self.rt.host)
        except ContainerNotFound:
            drop(self.rt, container_id)
            return
        _write(self.rt, info)

    @staticmethod
    def _written_since(action: str, container_id: str) -> bool:
        """True if this process wrote the container's summary after the event's change.

        Events come in order, and every state change brings one: a summary written
        at all was read after the "create"; a running one was read after the "start"
        that began its run (an older run's exit came in between, and was written).
        """
        written = memory.last(container_id)
        if written is None:
            return False
        # not "restarting": that is read between two runs, before the "start" of the next
        return action == "create" or (action == "start" and written.status in ("running", "paused"))

    def _exited(self, container_id: str, event: ContainerEvent) -> bool:
        """Mark a cached running container exited from its "die" event, without an inspect;
        True also when the exit is written already (nothing to do).

        Every job container dies, and most are destroyed a moment later: an inspect
        per exit is engine work for nothing. The entry keeps its run (its start
        time), so its version is what an inspect's would be, and a later inspect
        (an event, a resync) rewrites it with the engine's exact times. The entry is
        the one this process last wrote if any (the follower's own for the "start",
        usually), else read from the cache.
        """
        if event.exit_code is None:
            return False
        written = memory.last(container_id)
        if written is not None and written.status in ENDED:
            # Read after this run's "start" was applied (that applying wrote it, or left a
            # running entry read after it), so read after the run ended: the exit is in it.
            # A container that exits at once is read exited at its "start" already.
            return True
        info = written or container_cache.cached(self.rt.redis, self.rt.host, container_id)
        if info is None or info.status not in RUNNING:
            return False
        nanos = event.time_ns or time.time_ns()
        finished = datetime.fromtimestamp(nanos / 1e9, tz=UTC)
        update = {"status": "exited", "exit_code": event.exit_code, "finished_at": finished}
        _write(self.rt, info.model_copy(update=update))
        return True

    def resync(self) -> int:
        """Bring the host's entry in line with the engine; returns how many it holds.

        A merge, not a rewrite: a summary the listing read may already be older than
        one a task wrote meanwhile, and a container made after the listing began is
        not in it. So listed summaries go through the same version rule as any write,
        and an unlisted entry is dropped only if nothing about it is newer than the
        listing (by the engine's own clock, so a remote engine's skew does not matter).
        """
        began = engine_now(self.rt.docker)
        labels = [f"{fleet_labels.MANAGED}=true", f"{fleet_labels.HOST}={self.rt.host}"]
        listed = engine.summaries(self.rt.docker, {"label": labels})
        # Inspected, not summarised: the cache keeps creation times to the nanosecond,
        # so its listings order containers made within one second as the engine does.
        with ThreadPoolExecutor(RESYNC_PARALLELISM) as pool:
            infos = [i for i in pool.map(self._inspect, [c.id for c in listed]) if i]
        try:
            return container_cache.resync(self.rt.redis, self.rt.host, infos, began)
        finally:  # the merge may have replaced what this process wrote
            memory.forget_all()

    def _inspect(self, container_id: str) -> ContainerInfo | None:
        try:
            return engine.inspect(self.rt.docker, container_id, self.rt.host)
        except ContainerNotFound:  # removed since the listing
            return None


def put(rt: Runtime, info: ContainerInfo) -> None:
    """Record a container the fleet just changed (read-your-writes; events follow)."""
    if info.managed and info.labels.get(fleet_labels.HOST) == rt.host:
        _write(rt, info)


def drop(rt: Runtime, container_id: str) -> None:
    """Forget a removed container for good (container ids are never reused)."""
    container_cache.drop(rt.redis, rt.host, container_id)
    memory.dropped(container_id)


@contextmanager
def start_follows(name: str) -> Iterator[None]:
    """Make and start the container named `name` inside this block, the start at once
    after the create: the follower leaves its "create" to the inspect of its "start".

    Only for a start that follows without a wait (a job with no services to wait for
    and no workspace to upload): until then the cache does not hold the container. If
    the start never comes, the container is removed by the same caller, or found by
    the next resync.
    """
    memory.start_follows(name)
    try:
        yield
    finally:
        memory.start_done(name)


@contextmanager
def removing(rt: Runtime, container_id: str) -> Iterator[None]:
    """Remove the container inside this block: its entry is dropped once the engine has
    answered, and the follower leaves the drop for its "destroy" event to this."""
    memory.removal_begins(container_id)
    try:
        yield
    except BaseException:
        if memory.removal_ends(container_id):  # destroyed all the same: its event came
            drop(rt, container_id)
        raise
    try:
        drop(rt, container_id)
    finally:  # only now: a "destroy" read meanwhile is left to this drop, not done twice
        memory.removal_ends(container_id)


def engine_now(client: EngineClient) -> int:
    """The engine's clock on the scale of `version` (phase 0)."""
    now = engine_system.clock(client)
    return container_cache.stamp(now.timestamp()) if now else 0


def _write(rt: Runtime, info: ContainerInfo) -> None:
    generation = memory.generation()
    memory.wrote(info, container_cache.put(rt.redis, rt.host, info), generation)
