"""When the fleet last used each image of a host: the order image eviction goes by.

A sorted set per host (`keys.image_last_use`): image id -> the last time a
fleet container of it was created or seen running by a stats sweep. Image GC
reads it and drops an image's entry with the image.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import redis

from dockfleet import keys
from dockfleet.store.replies import text


def touch(
    client: redis.Redis, host: str, image_ids: Iterable[str], at: float | None = None
) -> None:
    """`image_ids` were used on `host` at `at` (now by default); `client` may be a pipeline."""
    when = time.time() if at is None else at
    used = {image_id: when for image_id in image_ids if image_id}
    if used:
        client.zadd(keys.image_last_use(host), used)


def last_use(client: redis.Redis, host: str) -> dict[str, float]:
    """Image id -> when the fleet last used it on `host` (unix time)."""
    pairs: list[Any] = client.zrange(keys.image_last_use(host), 0, -1, withscores=True)
    return {text(image_id): float(at) for image_id, at in pairs}


def forget(client: redis.Redis, host: str, image_id: str) -> None:
    """`image_id` is gone from `host`."""
    client.zrem(keys.image_last_use(host), image_id)
