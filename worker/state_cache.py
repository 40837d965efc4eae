"""The fleet-wide state cache: each worker mirrors its host's fleet containers into Redis.

A thread follows the engine's event stream (fleet containers only) and, for
each event, writes the container's current summary to a Redis hash of its
host, or deletes it once the container is destroyed. A full resync runs at
start, after the stream breaks (a missed event heals there) and every
``state_resync_interval``, so the cache heals itself. Clients then list the whole
fleet from Redis in milliseconds instead of asking every host
(`dockfleet.client.state_cache`).

Writers race: a task's own write (read-your-writes) and the follower's write
for an event each inspect first and write later, so a summary read while a
container was running could land after the one read once it exited. Each
write therefore carries a version (the container's latest start, then its
phase within that run: see `version`) and is applied only if not older
than the cached one; a removal leaves the mark ``removed`` so nothing read
before it brings the container back. Resyncs merge by the same rule.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from dockfleet import keys
from dockfleet import labels as fleet_labels
from dockfleet.errors import ContainerNotFound
from dockfleet.models import ContainerInfo
from worker.engine import containers as engine
from worker.engine import system as engine_system
from worker.engine.client import EngineClient
from worker.engine.events import ContainerEvent, ContainerEvents
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
        if event.action == "destroy":
            drop(self.rt, container_id)
            return
        if action == "die" and self._exited(container_id, event):
            return
        try:
            info = engine.inspect(self.rt.docker, container_id, self.rt.host)
        except ContainerNotFound:
            drop(self.rt, container_id)
            return
        _write(self.rt, info)

    def _exited(self, container_id: str, event: ContainerEvent) -> bool:
        """Mark a cached running container exited from its "die" event, without an inspect.

        Every job container dies, and most are destroyed a moment later: an inspect
        per exit is engine work for nothing. The entry keeps its run (its start
        time), so its version is what an inspect's would be, and a later inspect
        (an event, a resync) rewrites it with the engine's exact times.
        """
        cached = self.rt.redis.hget(keys.state_containers(self.rt.host), container_id)
        if cached is None or event.exit_code is None:
            return False
        info = ContainerInfo.model_validate_json(cached)
        if info.status not in ("running", "paused", "restarting"):
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
        entries = [field for i in infos for field in (i.id, version(i), i.model_dump_json())]
        held: Any = self.rt.redis.eval(
            _RESYNC, 3, *_keys(self.rt), keys.state_synced(self.rt.host), time.time(), began,
            *entries,
        )  # fmt: skip
        return int(held)

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
    rt.redis.eval(_DROP, 2, *_keys(rt), container_id)


def version(info: ContainerInfo) -> int:
    """Orders the states of one container: a later state has a larger version.

    The latest (re)start, or the creation if never started, then the phase within
    that run. Finished times cannot be used: the engine stamps a start once the
    process is running, so a process that exits at once can carry a finish time
    before its start time.
    """
    moments = [t for t in (info.created, info.started_at) if t is not None]
    run = max(moments).timestamp() if moments else 0.0
    return _stamp(run) + _PHASES.get(info.status, 1)


def engine_now(client: EngineClient) -> int:
    """The engine's clock on the scale of `version` (phase 0)."""
    now = engine_system.clock(client)
    return _stamp(now.timestamp()) if now else 0


def _stamp(seconds: float) -> int:
    # Milliseconds times 4 keeps the versions exact in Lua's doubles (2^53) for ages.
    return int(seconds * 1000) * 4


_PHASES = {"created": 0, "exited": 2, "dead": 2, "removing": 2}  # running, paused...: 1


def _write(rt: Runtime, info: ContainerInfo) -> None:
    rt.redis.eval(_PUT, 2, *_keys(rt), info.id, version(info), info.model_dump_json())


def _keys(rt: Runtime) -> tuple[str, str]:
    return keys.state_containers(rt.host), keys.state_versions(rt.host)


# Equal versions are applied: pause, rename or a health change leave the times alone.
_NEWER = """
local function newer(id, version)
  local cached = redis.call('hget', KEYS[2], id)
  if cached == 'removed' or (cached and tonumber(cached) > tonumber(version)) then return false end
  return true
end
"""
_PUT = (
    _NEWER
    + """
if not newer(ARGV[1], ARGV[2]) then return 0 end
redis.call('hset', KEYS[1], ARGV[1], ARGV[3])
redis.call('hset', KEYS[2], ARGV[1], ARGV[2])
return 1
"""
)
# KEYS: containers, versions, synced; ARGV: now, listing began, then (id, version, json)...
# Removal marks of unlisted ids go too (the engine no longer has them), so marks do
# not pile up; an entry without a version (a ghost) is dropped when unlisted.
_RESYNC = (
    _NEWER
    + """
local began, listed = tonumber(ARGV[2]), {}
for i = 3, #ARGV, 3 do
  listed[ARGV[i]] = true
  if newer(ARGV[i], ARGV[i + 1]) then
    redis.call('hset', KEYS[1], ARGV[i], ARGV[i + 2])
    redis.call('hset', KEYS[2], ARGV[i], ARGV[i + 1])
  end
end
local function stale(id)
  if listed[id] then return false end
  local cached = redis.call('hget', KEYS[2], id)
  return (not cached) or cached == 'removed' or tonumber(cached) < began
end
for _, id in ipairs(redis.call('hkeys', KEYS[1])) do
  if stale(id) then redis.call('hdel', KEYS[1], id); redis.call('hdel', KEYS[2], id) end
end
for _, id in ipairs(redis.call('hkeys', KEYS[2])) do
  if stale(id) then redis.call('hdel', KEYS[2], id) end
end
redis.call('set', KEYS[3], ARGV[1])
return redis.call('hlen', KEYS[1])
"""
)
_DROP = """
redis.call('hdel', KEYS[1], ARGV[1])
redis.call('hset', KEYS[2], ARGV[1], 'removed')
return 1
"""
