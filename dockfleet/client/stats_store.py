"""Reads the stats the workers' sweeps write: latest views, histories and the live feed."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from dockfleet import keys
from dockfleet.models import ContainerStats

#: a sample is fresh for this many stats intervals (plus a second of slack)
FRESH_INTERVALS = 2


def latest(client: redis.Redis, hosts: Iterable[str]) -> list[ContainerStats]:
    """The latest sample of every container of `hosts`, one pipelined read."""
    names = list(hosts)
    if not names:
        return []
    pipe = client.pipeline(transaction=False)
    for host in names:
        pipe.hvals(keys.stats_latest(host))
    found: list[list[Any]] = pipe.execute()
    return [ContainerStats.model_validate_json(doc) for docs in found for doc in docs]


def find(client: redis.Redis, ref: str, hosts: Iterable[str]) -> ContainerStats | None:
    """The latest sample of the container known by `ref` (id, id prefix or name)."""
    matches = [
        s for s in latest(client, hosts) if s.id == ref or s.name == ref or s.id.startswith(ref)
    ]
    return matches[0] if len(matches) == 1 else None


def is_fresh(sample: ContainerStats, stats_interval: float) -> bool:
    if sample.read_at is None:
        return False
    horizon = timedelta(seconds=FRESH_INTERVALS * stats_interval + 1)
    return datetime.now(UTC) - sample.read_at <= horizon


def history(
    client: redis.Redis, host: str, container_id: str, count: int | None = None
) -> list[ContainerStats]:
    """A container's kept samples, oldest first (at most `count`, the newest ones)."""
    entries: Any = client.xrevrange(keys.stats_history(host, container_id), count=count)
    return [ContainerStats.model_validate_json(fields["s"]) for _, fields in reversed(entries)]


def feed(
    client: redis.Redis,
    *,
    hosts: set[str] | None = None,
    ids: set[str] | None = None,
    timeout: float | None = None,
    block_ms: int = 1000,
) -> Iterator[ContainerStats]:
    """Samples as the sweeps write them, from now on; until `timeout` seconds (None: forever)."""
    last = "$"
    deadline = None if timeout is None else time.monotonic() + timeout
    while deadline is None or time.monotonic() < deadline:
        wait = block_ms
        if deadline is not None:
            wait = max(1, min(block_ms, int((deadline - time.monotonic()) * 1000)))
        answer: Any = client.xread({keys.STATS_FEED: last}, block=wait, count=500)
        for _, entries in answer or []:
            for entry_id, fields in entries:
                last = entry_id
                sample = ContainerStats.model_validate_json(fields["s"])
                if hosts and sample.host not in hosts:
                    continue
                if ids and not any(sample.id.startswith(i) or sample.name == i for i in ids):
                    continue
                yield sample
