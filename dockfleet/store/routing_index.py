"""The index the client routes by: container id, short id and name -> the hosts holding it.

Written by the worker that creates or finds a container, dropped when it
removes one; read by the client to send a call to that host's queue. Stale
entries are harmless: the client drops a wrong one and falls back to asking
every host. Each ref is a set (`keys.locate`), since two hosts may hold a
container of one name.
"""

from __future__ import annotations

import redis

from dockfleet import keys
from dockfleet.models import ContainerInfo
from dockfleet.store.batch import within
from dockfleet.store.replies import text

#: index entries outlive their container at most this long if it vanishes unseen
TTL_SECONDS = 7 * 24 * 3600


def remember(client: redis.Redis, info: ContainerInfo) -> None:
    """`info`'s host holds it, under its id, its short id and its name; `client` may be a
    pipeline (`batch.together`)."""
    with within(client) as pipe:
        for ref in _refs(info):
            pipe.sadd(keys.locate(ref), info.host)
            pipe.expire(keys.locate(ref), TTL_SECONDS)


def forget(client: redis.Redis, info: ContainerInfo) -> None:
    """`info` is gone from its host."""
    pipe = client.pipeline(transaction=False)
    for ref in _refs(info):
        pipe.srem(keys.locate(ref), info.host)
    pipe.execute()


def forget_ref(client: redis.Redis, ref: str, host: str) -> None:
    """`host` does not hold `ref` after all (a stale entry the client stumbled on)."""
    client.srem(keys.locate(ref), host)


def hosts_of(client: redis.Redis, ref: str) -> list[str]:
    """The hosts indexed as holding `ref`, sorted (empty: ask every host)."""
    return sorted(text(h) for h in client.smembers(keys.locate(ref)))


def _refs(info: ContainerInfo) -> list[str]:
    return [info.id, info.short_id, info.name]
