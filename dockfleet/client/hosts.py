"""Reads the host registry that worker heartbeats write (see `worker.heartbeat`)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import redis

from dockfleet import keys
from dockfleet.models import HostStatus

#: a host is down after this many missed heartbeats
MISSED_BEATS_FOR_DOWN = 3


def read_hosts(client: redis.Redis, heartbeat_interval: float) -> list[HostStatus]:
    names = [str(n) for n in client.zrange(keys.HOSTS, 0, -1)]
    if not names:
        return []
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hgetall(keys.host(name))
    now = time.time()
    horizon = now - MISSED_BEATS_FOR_DOWN * heartbeat_interval
    hosts = []
    for name, fields in zip(names, pipe.execute(), strict=True):
        if not fields:
            continue
        last_seen = float(fields.get("last_seen", 0))
        workers = sorted(
            k.removeprefix("worker:")
            for k, v in fields.items()
            if k.startswith("worker:") and float(v) >= horizon
        )
        engine_ok = fields.get("engine_ok", "1") == "1"
        hosts.append(
            HostStatus(
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
        )
    return hosts


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value else None


def _time_or_none(value: str | None) -> datetime | None:
    return datetime.fromtimestamp(float(value), tz=UTC) if value else None
