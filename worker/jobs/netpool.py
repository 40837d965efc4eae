"""A warm pool of job networks per host, so per-job isolation costs no network create/remove.

Creating and removing a bridge network costs ~237 ms on this machine, as much
as a whole trivial job. A job instead takes an idle pooled network (SPOP, so
two jobs never share one), records it in its state (for adoption), runs, and
once its containers are gone gives it back clean: a network with no endpoints
carries nothing from the job before (aliases live on endpoints). Networks in
use are tracked in Redis with their job, so a rebuilt pool never hands out a
network a job still holds.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from dockfleet import keys
from dockfleet import labels as fleet_labels
from dockfleet.errors import FleetError, NetworkNotFound
from dockfleet.names import POOL_PREFIX
from dockfleet.store import job_leases, job_records
from worker.engine import networks
from worker.runtime import Runtime

log = logging.getLogger(__name__)
NAME_PREFIX = POOL_PREFIX

# Take one idle network and mark it in use by the job, atomically.
_TAKE = """
local name = redis.call('spop', KEYS[1])
if name then redis.call('hset', KEYS[2], name, ARGV[1]) end
return name
"""
# Offer a network to the pool unless a job holds it.
_OFFER = """
if redis.call('hexists', KEYS[2], ARGV[1]) == 1 then return 0 end
return redis.call('sadd', KEYS[1], ARGV[1])
"""


def _keys(rt: Runtime) -> list[str]:
    return [keys.network_pool(rt.host), keys.network_pool_in_use(rt.host)]


def take(rt: Runtime, job_id: str) -> str:
    """An idle pooled network for `job_id` (a new one when the pool is empty)."""
    while True:
        name: Any = rt.redis.eval(_TAKE, 2, *_keys(rt), job_id)
        if not name:
            name = create(rt)
            rt.redis.hset(keys.network_pool_in_use(rt.host), name, job_id)
            return str(name)
        if _idle(rt, str(name)):
            return str(name)
        # Gone or still attached (someone removed it, or a crash left an endpoint): drop it.
        rt.redis.hdel(keys.network_pool_in_use(rt.host), name)


def give_back(rt: Runtime, name: str) -> None:
    """Return a network once its job's containers are gone (removed if the pool is full)."""
    in_use = keys.network_pool_in_use(rt.host)
    if not _idle(rt, name):
        log.warning("network %s still has endpoints after its job; removing it", name)
        _remove(rt, name)
    elif int(rt.redis.scard(keys.network_pool(rt.host))) >= rt.settings.network_pool_max:
        _remove(rt, name)
    else:
        rt.redis.hdel(in_use, name)
        rt.redis.eval(_OFFER, 2, *_keys(rt), name)
        return
    rt.redis.hdel(in_use, name)


def prewarm(rt: Runtime) -> int:
    """Reclaim networks of finished jobs, offer every idle pooled network the engine has,
    then create up to the pool size (run at worker start, off the job path)."""
    in_use = keys.network_pool_in_use(rt.host)
    for name, job_id in dict(rt.redis.hgetall(in_use)).items():
        state = job_records.state(rt.redis, str(job_id))
        if state in ("", "finished") and not job_leases.live(rt.redis, [str(job_id)]):
            rt.redis.hdel(in_use, name)  # its job kept it (keep_on_failure) or died past it
    pooled = {"label": [f"{fleet_labels.POOL}={rt.host}"]}
    for network in networks.list_networks(rt.docker, rt.host, pooled):
        if _idle(rt, network.name):
            rt.redis.eval(_OFFER, 2, *_keys(rt), network.name)
    # Several workers of one host start together: one of them tops the pool up.
    with rt.redis.lock(keys.network_pool_prewarm(rt.host), timeout=60, blocking_timeout=60):
        size = int(rt.redis.scard(keys.network_pool(rt.host)))
        for _ in range(max(0, rt.settings.network_pool_size - size)):
            rt.redis.eval(_OFFER, 2, *_keys(rt), create(rt))
    return int(rt.redis.scard(keys.network_pool(rt.host)))


def drain(rt: Runtime) -> int:
    """Remove the idle pooled networks (a worker stopping leaves nothing behind; the pool
    refills on demand). Networks that jobs hold are theirs to give back."""
    removed = 0
    while name := rt.redis.spop(keys.network_pool(rt.host)):
        _remove(rt, str(name))
        removed += 1
    return removed


def create(rt: Runtime) -> str:
    name = f"{NAME_PREFIX}{rt.host}-{uuid.uuid4().hex[:10]}"
    labels = {**fleet_labels.ownership(rt.host), fleet_labels.POOL: rt.host}
    networks.create_network(rt.docker, name, labels=labels)
    return name


def is_pooled(name: str) -> bool:
    return name.startswith(NAME_PREFIX)


def _idle(rt: Runtime, name: str) -> bool:
    try:
        return not networks.inspect_network(rt.docker, name, rt.host).containers
    except NetworkNotFound:
        return False


def _remove(rt: Runtime, name: str) -> None:
    try:
        networks.remove_network(rt.docker, name)
    except FleetError:
        log.warning("could not remove network %s; cleanup will", name, exc_info=True)
