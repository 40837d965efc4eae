"""The host registry: one hash of facts per Docker host, and the set of hosts that ever beat.

Writers: each worker's heartbeat (liveness, its engine's facts, its own
``worker:<name>`` beat) and the stats sweep (how it sampled). Readers: the
client's ``hosts``, beat's dispatch, the exporter and ``dockfleet up``. A host
is up while its last beat is recent, its engine answered, and one of its
workers beat recently; a host is down after `MISSED_BEATS_FOR_DOWN` missed
beats. The hash expires a day after the last beat, so a host gone for good
drops out of the listing by itself.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import redis

from dockfleet import keys
from dockfleet.models import HostStatus, SystemInfo
from dockfleet.store.replies import text

#: a host is down after this many missed heartbeats
MISSED_BEATS_FOR_DOWN = 3
#: the registry forgets a host this long after its last heartbeat
HOST_KEY_TTL_SECONDS = 24 * 3600
#: the field of one worker's last beat is this prefix and the worker's name
_WORKER = "worker:"
#: the engine facts a heartbeat copies into the hash (SystemInfo's names and values)
_FACTS = ("docker_version", "cpus", "mem_total", "containers_running", "containers_total", "images")

#: the limit of fleet containers on the host its workers enforce (not in `HostStatus`)
_MAX_CONTAINERS = "max_containers"

Fields = Mapping[str, str | float | int]


def write_beat(
    client: redis.Redis,
    host: str,
    worker: str,
    now: float,
    engine: SystemInfo | None,
    disk: tuple[int, int] | None = None,
    max_containers: int | None = None,
) -> None:
    """One heartbeat of `worker`: `engine` is None when the engine did not answer.

    Args:
        disk: bytes used and total on the engine's data-root disk, when the worker sees it.
        max_containers: the worker's limit of fleet containers on the host (its capacity).
    """
    fields: dict[str, str | float | int] = {"last_seen": now, _WORKER + worker: now}
    if max_containers is not None:
        fields[_MAX_CONTAINERS] = max_containers
    if engine is None:
        fields["engine_ok"] = 0
    else:
        fields["engine_ok"] = 1
        fields.update({name: getattr(engine, name) for name in _FACTS})
        if disk is not None:
            fields.update(disk_used=disk[0], disk_total=disk[1])
    pipe = client.pipeline(transaction=False)
    _hset(pipe, host, fields)
    pipe.expire(keys.host(host), HOST_KEY_TTL_SECONDS)
    pipe.zadd(keys.HOSTS, {host: now})
    pipe.execute()


def withdraw_worker(client: redis.Redis, host: str, worker: str) -> None:
    """`worker` stops: its host no longer counts it (the host is down once none is left)."""
    client.hdel(keys.host(host), _WORKER + worker)


def write_sweep(
    client: redis.Redis, host: str, mode: str, now: float, sweep_ms: float, sampled: int
) -> None:
    """How the last stats sweep of `host` went (`client` may be the sweep's pipeline)."""
    fields: Fields = {
        "sampling_mode": mode,
        "last_sweep": now,
        "sweep_ms": round(sweep_ms, 3),
        "sampled": sampled,
    }
    _hset(client, host, fields)


def worker_beat(client: redis.Redis, host: str, worker: str) -> tuple[float, bool] | None:
    """When `worker` of `host` last beat and whether its engine answered then (None: never)."""
    beat_at, engine_ok = client.hmget(keys.host(host), [_WORKER + worker, "engine_ok"])
    if beat_at is None:
        return None
    return float(beat_at), text(engine_ok) != "0"


def read_hosts(client: redis.Redis, heartbeat_interval: float) -> list[HostStatus]:
    """Every host that beat within the last day, each with whether it is up now."""
    listed: list[Any] = client.zrange(keys.HOSTS, 0, -1)
    names = [text(n) for n in listed]
    if not names:
        return []
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hgetall(keys.host(name))
    horizon = time.time() - MISSED_BEATS_FOR_DOWN * heartbeat_interval
    found = [
        _status(name, {text(k): text(v) for k, v in fields.items()}, horizon)
        for name, fields in zip(names, pipe.execute(), strict=True)
        if fields  # expired: listed in the set, gone from the registry
    ]
    return found


def max_containers(client: redis.Redis, hosts: list[str]) -> dict[str, int]:
    """The limit of fleet containers of each of `hosts` whose workers beat it."""
    pipe = client.pipeline(transaction=False)
    for host in hosts:
        pipe.hget(keys.host(host), _MAX_CONTAINERS)
    found = zip(hosts, pipe.execute(), strict=True)
    return {host: int(text(limit)) for host, limit in found if limit is not None}


def _status(name: str, fields: dict[str, str], horizon: float) -> HostStatus:
    last_seen = float(fields.get("last_seen", 0))
    workers = sorted(
        k.removeprefix(_WORKER)
        for k, v in fields.items()
        if k.startswith(_WORKER) and float(v) >= horizon
    )
    # A beat from before `engine_ok` was written says nothing against the engine.
    engine_ok = fields.get("engine_ok", "1") == "1"
    return HostStatus(
        name=name,
        up=last_seen >= horizon and engine_ok and bool(workers),
        last_seen=datetime.fromtimestamp(last_seen, tz=UTC),
        engine_ok=engine_ok,
        workers=workers,
        docker_version=fields.get("docker_version", ""),
        cpus=int(fields.get("cpus", 0)),
        mem_total=int(fields.get("mem_total", 0)),
        containers_running=int(fields.get("containers_running", 0)),
        containers_total=int(fields.get("containers_total", 0)),
        images=int(fields.get("images", 0)),
        disk_used=_int_or_none(fields.get("disk_used")),
        disk_total=_int_or_none(fields.get("disk_total")),
        sampling_mode=fields.get("sampling_mode", ""),
        last_sweep=_time_or_none(fields.get("last_sweep")),
        sweep_ms=float(fields["sweep_ms"]) if "sweep_ms" in fields else None,
    )


def _hset(client: redis.Redis, host: str, fields: Fields) -> None:
    client.hset(keys.host(host), mapping=dict(fields))  # type: ignore[arg-type]


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value else None


def _time_or_none(value: str | None) -> datetime | None:
    return datetime.fromtimestamp(float(value), tz=UTC) if value else None
