"""The state cache: each host's fleet containers, mirrored into Redis by its workers.

Three keys per host (`dockfleet.keys`): ``state_containers`` (id -> JSON
`ContainerInfo`), ``state_versions`` (id -> version, or ``removed``) and
``state_synced`` (when the host last resynced whole). The writer side is the
worker (`worker.process.state_cache`: events, its own tasks, resyncs); the reader side
is the client's listing (`dockfleet.client.state_cache`).

Writers race: a summary read while a container ran can land after one read
once it exited. So each write carries a version (`version`) and is applied
only if not older than the cached one; a removal leaves the mark ``removed``
so nothing read before it brings the container back. Resyncs merge by the
same rule (the Lua in ``lua/state_*.lua``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from dockfleet import keys
from dockfleet.models import ContainerInfo
from dockfleet.store.redis_types import Client
from dockfleet.store.scripts import LuaScript

_PUT = LuaScript("state_put", prelude="state_newer")
_RESYNC = LuaScript("state_resync", prelude="state_newer")
_DROP = LuaScript("state_drop")
_PHASES = {"created": 0, "exited": 2, "dead": 2, "removing": 2}  # running, paused...: 1


def version(info: ContainerInfo) -> int:
    """Orders the states of one container: a later state has a larger version.

    The latest (re)start, or the creation if never started, then the phase within
    that run. Finished times cannot be used: the engine stamps a start once the
    process is running, so a process that exits at once can carry a finish time
    before its start time.
    """
    moments = [t for t in (info.created, info.started_at) if t is not None]
    run = max(moments).timestamp() if moments else 0.0
    return stamp(run) + _PHASES.get(info.status, 1)


def stamp(seconds: float) -> int:
    """A moment on the scale of `version` (phase 0)."""
    # Milliseconds times 4 keeps the versions exact in Lua's doubles (2^53) for ages.
    return int(seconds * 1000) * 4


def put(client: Client, host: str, info: ContainerInfo) -> bool:
    """Write a container's summary unless a newer one is cached; True if written."""
    answer: Any = _PUT(client, _keys(host), [info.id, version(info), info.model_dump_json()])
    return bool(answer)


def drop(client: Client, host: str, container_id: str) -> None:
    """Forget a removed container for good (container ids are never reused)."""
    _DROP(client, _keys(host), [container_id])


def cached(client: Client, host: str, container_id: str) -> ContainerInfo | None:
    """The cached summary of one container of `host`, if any."""
    row = client.hget(keys.state_containers(host), container_id)
    return None if row is None else ContainerInfo.model_validate_json(row)


def resync(client: Client, host: str, infos: list[ContainerInfo], began: int) -> int:
    """Merge a full listing of `host` (read from `began`, an engine `stamp`); returns the
    entries the cache holds after it.

    Listed summaries go through the version rule; an unlisted entry goes only if
    nothing about it is newer than the listing.
    """
    entries = [field for i in infos for field in (i.id, version(i), i.model_dump_json())]
    held: Any = _RESYNC(
        client, [*_keys(host), keys.state_synced(host)], [time.time(), began, *entries]
    )
    return int(held)


def live_summaries(client: Client, hosts: list[str], max_age: float) -> list[ContainerInfo] | None:
    """Every cached summary of `hosts`, or None if any of them has not resynced within
    `max_age` seconds (its cache may be missing containers). One round trip."""
    rows = _read_live(
        client, hosts, max_age, lambda pipe, host: pipe.hvals(keys.state_containers(host))
    )
    if len(rows) < len(set(hosts)):
        return None
    return [ContainerInfo.model_validate_json(row) for held in rows.values() for row in held]


def counts(client: Client, hosts: list[str], max_age: float) -> dict[str, int]:
    """How many fleet containers (in any state) each of `hosts` holds, for the hosts whose
    cache resynced within `max_age` seconds (the others may be missing containers)."""
    held = _read_live(
        client, hosts, max_age, lambda pipe, host: pipe.hlen(keys.state_containers(host))
    )
    return {host: int(n) for host, n in held.items()}


def _read_live(
    client: Client, hosts: list[str], max_age: float, read: Callable[[Client, str], object]
) -> dict[str, Any]:
    """`read` of each host whose cache resynced within `max_age` seconds, in one round trip."""
    pipe = client.pipeline(transaction=False)
    for host in hosts:
        pipe.get(keys.state_synced(host))
        read(pipe, host)
    answers: list[Any] = pipe.execute()
    now = time.time()
    return {
        host: answers[2 * index + 1]
        for index, host in enumerate(hosts)
        if answers[2 * index] is not None and now - float(answers[2 * index]) <= max_age
    }


def _keys(host: str) -> list[str]:
    return [keys.state_containers(host), keys.state_versions(host)]
