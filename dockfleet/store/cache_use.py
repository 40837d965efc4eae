"""When a job last mounted each cache of a host: the order cache eviction goes by.

A sorted set per host (`keys.cache_last_use`): cache key -> the last time a job
mounted it. The job runner touches it as it mounts the cache; `dockfleet cache ls`
shows it; eviction reads it and drops a key's entry with its volume.
"""

from __future__ import annotations

import time
from typing import Any

import redis

from dockfleet import keys
from dockfleet.store.replies import text


def touch(client: redis.Redis, host: str, key: str, at: float | None = None) -> None:
    """Cache `key` was mounted on `host` at `at` (now by default)."""
    client.zadd(keys.cache_last_use(host), {key: time.time() if at is None else at})


def last_use(client: redis.Redis, host: str) -> dict[str, float]:
    """Cache key -> when a job last mounted it on `host` (unix time)."""
    pairs: list[Any] = client.zrange(keys.cache_last_use(host), 0, -1, withscores=True)
    return {text(key): float(at) for key, at in pairs}


def forget(client: redis.Redis, host: str, key: str) -> None:
    """Cache `key` is gone from `host`."""
    client.zrem(keys.cache_last_use(host), key)
