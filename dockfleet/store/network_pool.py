"""A host's warm pool of job networks: the idle ones, the ones jobs hold, the top-up turn.

Three keys per host (`dockfleet.keys`): ``network_pool`` (set of idle
networks), ``network_pool_in_use`` (network -> the job holding it, so a
rebuilt pool never offers a held network) and ``network_pool_prewarm`` (an
owned key: one worker of a host tops the pool up at a time). The engine side
(creating, inspecting, removing networks) is `worker.jobs.netpool`'s.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from redis.exceptions import LockError

from dockfleet import keys
from dockfleet.store import owned_keys
from dockfleet.store.redis_types import Client
from dockfleet.store.scripts import LuaScript

_TAKE = LuaScript("netpool_take")
_OFFER = LuaScript("netpool_offer")
_GIVE_BACK = LuaScript("netpool_give_back")
#: how long a top-up may hold its turn, and how long another waits for it
PREWARM_SECONDS = 60
PREWARM_POLL_SECONDS = 0.1


def take_idle(client: Client, host: str, job_id: str) -> str | None:
    """An idle network, now held by `job_id` (None when the pool is empty)."""
    name: Any = _TAKE(client, _keys(host), [job_id])
    return str(name) if name else None


def hold(client: Client, host: str, name: str, job_id: str) -> None:
    """Record that `job_id` holds `name` (a network made for it outside the pool)."""
    client.hset(keys.network_pool_in_use(host), name, job_id)


def holder(client: Client, host: str, name: str) -> str | None:
    """The job holding `name`, if one does."""
    job_id = client.hget(keys.network_pool_in_use(host), name)
    return None if job_id is None else str(job_id)


def holders(client: Client, host: str) -> dict[str, str]:
    """Every held network of `host` -> its job."""
    return {str(k): str(v) for k, v in client.hgetall(keys.network_pool_in_use(host)).items()}


def release(client: Client, host: str, name: str) -> None:
    """`name` is held by no job any more (offered again, or removed)."""
    client.hdel(keys.network_pool_in_use(host), name)


def offer(client: Client, host: str, name: str) -> bool:
    """Add `name` to the idle set unless a job holds it; True if added."""
    added: Any = _OFFER(client, _keys(host), [name])
    return bool(added)


def give_back(client: Client, host: str, name: str, max_idle: int) -> bool:
    """A job's network, idle again, offered to the pool and held by nobody, unless the
    pool has `max_idle` networks already: then False, and it stays held (to be removed,
    then `release`d). One round trip."""
    offered: Any = _GIVE_BACK(client, _keys(host), [name, max_idle])
    return bool(offered)


def idle_count(client: Client, host: str) -> int:
    return int(client.scard(keys.network_pool(host)))


def pop_idle(client: Client, host: str) -> str | None:
    """Take an idle network out of the pool for good (draining it)."""
    name = client.spop(keys.network_pool(host))
    return str(name) if name else None


@contextmanager
def prewarm_turn(client: Client, host: str) -> Iterator[None]:
    """Hold the host's top-up turn for the block; waits up to `PREWARM_SECONDS` for it.

    Raises:
        LockError: another worker held the turn all that time.
    """
    key, token, ttl_ms = keys.network_pool_prewarm(host), uuid.uuid4().hex, PREWARM_SECONDS * 1000
    taken = owned_keys.wait_to_take(
        lambda: owned_keys.take(client, key, token, ttl_ms),
        PREWARM_SECONDS,
        max_poll=PREWARM_POLL_SECONDS,
    )
    if not taken:
        raise LockError(f"the network pool of host {host} is being topped up elsewhere")
    try:
        yield
    finally:
        owned_keys.release(client, key, token)


def _keys(host: str) -> list[str]:
    return [keys.network_pool(host), keys.network_pool_in_use(host)]
