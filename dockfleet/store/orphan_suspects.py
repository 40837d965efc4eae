"""Job objects reconcile has seen without a lease, and since when: a hash per host.

An object is reaped only once it has been a suspect for the orphan grace, so
the first sighting must survive a worker's restart; the hash keeps it. An
object that is gone, or whose job holds a lease again, is dropped from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis

from dockfleet import keys
from dockfleet.store.replies import text

#: a suspect nobody looked at for this long is forgotten with the whole hash
TTL_SECONDS = 7 * 24 * 3600


def first_seen(client: redis.Redis, host: str) -> dict[str, float]:
    """Object id -> when reconcile first saw it without a lease (unix time)."""
    raw: dict[Any, Any] = client.hgetall(keys.orphan_suspects(host))
    return {text(object_id): float(at) for object_id, at in raw.items()}


def update(client: redis.Redis, host: str, new: Mapping[str, float], cleared: list[str]) -> None:
    """Add the `new` suspects (id -> first seen) and drop the `cleared` ones."""
    key = keys.orphan_suspects(host)
    pipe = client.pipeline(transaction=False)
    if new:
        pipe.hset(key, mapping=dict(new))  # type: ignore[arg-type]
    if cleared:
        pipe.hdel(key, *cleared)
    pipe.expire(key, TTL_SECONDS)
    pipe.execute()


def clear(client: redis.Redis, host: str, object_id: str) -> None:
    """`object_id` was reaped: no longer a suspect."""
    client.hdel(keys.orphan_suspects(host), object_id)
