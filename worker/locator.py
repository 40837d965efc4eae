"""Keeps the index the client routes by: container id, short id and name -> host.

Written when the fleet creates or finds a container, dropped when it removes
one. Stale entries are harmless: the client falls back to asking every host.
"""

from __future__ import annotations

import redis

from dockfleet import keys
from dockfleet.models import ContainerInfo

#: index entries outlive their container at most this long if it vanishes unseen
TTL_SECONDS = 7 * 24 * 3600


def remember(client: redis.Redis, info: ContainerInfo) -> None:
    pipe = client.pipeline(transaction=False)
    for ref in _refs(info):
        pipe.sadd(keys.locate(ref), info.host)
        pipe.expire(keys.locate(ref), TTL_SECONDS)
    pipe.execute()


def forget(client: redis.Redis, info: ContainerInfo) -> None:
    pipe = client.pipeline(transaction=False)
    for ref in _refs(info):
        pipe.srem(keys.locate(ref), info.host)
    pipe.execute()


def _refs(info: ContainerInfo) -> list[str]:
    return [info.id, info.short_id, info.name]
