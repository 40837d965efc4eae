"""The fleet-wide state cache: each worker mirrors its host's fleet containers into Redis.

A thread follows the engine's event stream (fleet containers only) and, for
each event, writes the container's current summary to a Redis hash of its
host, or deletes it once the container is destroyed. A full resync runs at
start, after the stream breaks (a missed event heals there) and every
``state_resync_interval``, so the cache heals itself. Clients then list the whole
fleet from Redis in milliseconds instead of asking every host
(`dockfleet.client.state_cache`).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dockfleet import keys
from dockfleet import labels as fleet_labels
from dockfleet.errors import ContainerNotFound
from dockfleet.models import ContainerInfo
from worker.engine import containers as engine
from worker.runtime import Runtime

log = logging.getLogger(__name__)
RETRY_SECONDS = 2.0
RESYNC_PARALLELISM = 8
STATE_CHANGES = frozenset(
    {"create", "start", "restart", "die", "kill", "stop", "oom", "pause", "unpause",
     "destroy", "rename", "update", "health_status"}
)  # fmt: skip


class StateFollower:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._stop = threading.Event()
        self._stream: Any = None
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
        self._stream = self.rt.docker.api.events(
            since=int(since) - 1,
            until=int(until),
            decode=True,
            filters={"type": "container", "label": [f"{fleet_labels.HOST}={self.rt.host}"]},
        )
        try:
            for event in self._stream:
                self.apply(event)
        finally:
            self._stream.close()
            self._stream = None

    def apply(self, event: dict[str, Any]) -> None:
        action = str(event.get("Action", "")).partition(":")[0]
        if action not in STATE_CHANGES:
            return  # exec_*, attach, resize...: the container's state did not change
        container_id = str(event.get("id") or event.get("Actor", {}).get("ID", ""))
        if not container_id:
            return
        key = keys.state_containers(self.rt.host)
        if event.get("Action") == "destroy":
            self.rt.redis.hdel(key, container_id)
            return
        try:
            info = engine.inspect(self.rt.docker, container_id, self.rt.host)
        except ContainerNotFound:
            self.rt.redis.hdel(key, container_id)
            return
        self.rt.redis.hset(key, container_id, info.model_dump_json())

    def resync(self) -> int:
        """Rewrite the host's whole entry from the engine; returns how many it holds."""
        labels = [f"{fleet_labels.MANAGED}=true", f"{fleet_labels.HOST}={self.rt.host}"]
        rows = engine.list_summaries(self.rt.docker, {"label": labels})
        # Inspected, not summarised: the cache keeps creation times to the nanosecond,
        # so its listings order containers made within one second as the engine does.
        with ThreadPoolExecutor(RESYNC_PARALLELISM) as pool:
            infos = [i for i in pool.map(self._inspect, [str(r["Id"]) for r in rows]) if i]
        key = keys.state_containers(self.rt.host)
        pipe = self.rt.redis.pipeline(transaction=True)
        pipe.delete(key)
        if infos:
            pipe.hset(key, mapping={i.id: i.model_dump_json() for i in infos})
        pipe.set(keys.state_synced(self.rt.host), time.time())
        pipe.execute()
        return len(infos)

    def _inspect(self, container_id: str) -> ContainerInfo | None:
        try:
            return engine.inspect(self.rt.docker, container_id, self.rt.host)
        except ContainerNotFound:  # removed since the listing
            return None


def put(rt: Runtime, info: ContainerInfo) -> None:
    """Record a container the fleet just changed (read-your-writes; events follow)."""
    if info.managed and info.labels.get(fleet_labels.HOST) == rt.host:
        rt.redis.hset(keys.state_containers(rt.host), info.id, info.model_dump_json())


def drop(rt: Runtime, container_id: str) -> None:
    rt.redis.hdel(keys.state_containers(rt.host), container_id)
