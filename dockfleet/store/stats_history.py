"""The stats record: what the sweeps sample, kept three ways, and read by the client.

Per host, the latest sample of each running container (`keys.stats_latest`, a
hash replaced whole at each sweep, so a gone container drops out); per
container a capped stream of its samples (`keys.stats_history`); and the
fleet-wide feed every sample also goes to (`keys.STATS_FEED`, for
`Fleet.stats_stream`); and each sweep adds to the host's usage totals
(`dockfleet.store.usage_totals`). A sample is the JSON of `ContainerStats`; in a stream
entry it is the one field `_SAMPLE`. One sweep of a host at a time: the sweep
lock is an owned key (`dockfleet.store.owned_keys`), taken for one interval.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from dockfleet import keys
from dockfleet.models import ContainerStats
from dockfleet.settings import RetentionSettings
from dockfleet.store import owned_keys, usage_totals

#: the field of a stream entry that holds the sample's JSON
_SAMPLE = "s"
#: the fleet-wide feed keeps about this many samples
FEED_LENGTH = 10_000
#: a sample is fresh for this many stats intervals (plus a second of slack)
FRESH_INTERVALS = 2

# -- the sweep's side ---------------------------------------------------------------


def take_sweep(client: redis.Redis, host: str, seconds: float) -> str | None:
    """The token of our turn to sweep `host` for `seconds`; None while another worker's runs."""
    token = uuid.uuid4().hex
    taken = owned_keys.take(client, keys.stats_sweep_lock(host), token, int(seconds * 1000))
    return token if taken else None


def end_sweep(client: redis.Redis, host: str, token: str) -> None:
    """End our turn (if it outlived its time, the next sweep's turn is left alone)."""
    owned_keys.release(client, keys.stats_sweep_lock(host), token)


def previous(client: redis.Redis, host: str, ids: list[str]) -> dict[str, ContainerStats]:
    """The latest kept sample of each of `ids` on `host` that has one."""
    if not ids:
        return {}
    raw = client.hmget(keys.stats_latest(host), ids)
    return {
        i: ContainerStats.model_validate_json(doc)
        for i, doc in zip(ids, raw, strict=True)
        if doc is not None
    }


def write_sweep(
    client: redis.Redis, host: str, samples: list[ContainerStats], retention: RetentionSettings
) -> None:
    """A sweep's samples: the new latest view, each history, the feed, the host's usage
    totals (`client`: a pipeline)."""
    ttl = retention.stats_seconds
    usage_totals.count_in(client, host, samples)
    latest_key = keys.stats_latest(host)
    client.delete(latest_key)
    for sample in samples:
        doc = sample.model_dump_json()
        client.hset(latest_key, sample.id, doc)
        history_key = keys.stats_history(host, sample.id)
        cap = retention.stats_samples_per_container
        client.xadd(history_key, {_SAMPLE: doc}, maxlen=cap, approximate=False)
        client.expire(history_key, ttl)
        client.xadd(keys.STATS_FEED, {_SAMPLE: doc}, maxlen=FEED_LENGTH, approximate=True)
    if samples:
        client.expire(latest_key, ttl)


# -- the readers' side ------------------------------------------------------------------


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
    """Whether `sample` is recent enough to stand for the container now."""
    if sample.read_at is None:
        return False
    horizon = timedelta(seconds=FRESH_INTERVALS * stats_interval + 1)
    return datetime.now(UTC) - sample.read_at <= horizon


def history(
    client: redis.Redis, host: str, container_id: str, count: int | None = None
) -> list[ContainerStats]:
    """A container's kept samples, oldest first (at most `count`, the newest ones)."""
    entries: Any = client.xrevrange(keys.stats_history(host, container_id), count=count)
    return [_sample(fields) for _, fields in reversed(entries)]


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
                sample = _sample(fields)
                if hosts and sample.host not in hosts:
                    continue
                if ids and not any(sample.id.startswith(i) or sample.name == i for i in ids):
                    continue
                yield sample


def _sample(fields: dict[Any, Any]) -> ContainerStats:
    return ContainerStats.model_validate_json(fields[_SAMPLE])
