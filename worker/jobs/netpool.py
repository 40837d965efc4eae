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

from dockfleet import labels as fleet_labels
from dockfleet.errors import FleetError, NetworkNotFound
from dockfleet.names import POOL_PREFIX
from dockfleet.store import job_leases, job_records, network_pool
from worker.engine import networks
from worker.runtime import Runtime

log = logging.getLogger(__name__)
NAME_PREFIX = POOL_PREFIX


def take(rt: Runtime, job_id: str) -> str:
    """An idle pooled network for `job_id` (a new one when the pool is empty)."""
    while True:
        name = network_pool.take_idle(rt.redis, rt.host, job_id)
        if not name:
            name = create(rt)
            network_pool.hold(rt.redis, rt.host, name, job_id)
            return name
        if _idle(rt, name):
            return name
        # Gone or still attached (someone removed it, or a crash left an endpoint): drop it.
        network_pool.release(rt.redis, rt.host, name)


def give_back(rt: Runtime, name: str) -> None:
    """Return a network once its job's containers are gone (removed if the pool is full)."""
    if not _idle(rt, name):
        log.warning("network %s still has endpoints after its job; removing it", name)
    elif network_pool.give_back(rt.redis, rt.host, name, rt.settings.network_pool_max):
        return
    _remove(rt, name)  # still held: nobody takes it meanwhile
    network_pool.release(rt.redis, rt.host, name)


def prewarm(rt: Runtime) -> int:
    """Reclaim networks of finished jobs, offer every idle pooled network the engine has,
    then create up to the pool size (run at worker start, off the job path)."""
    for name, job_id in network_pool.holders(rt.redis, rt.host).items():
        state = job_records.state(rt.redis, job_id)
        if state in ("", "finished") and not job_leases.live(rt.redis, [job_id]):
            network_pool.release(rt.redis, rt.host, name)  # its job kept it, or died past it
    pooled = {"label": [f"{fleet_labels.POOL}={rt.host}"]}
    for network in networks.list_networks(rt.docker, rt.host, pooled):
        if _idle(rt, network.name):
            network_pool.offer(rt.redis, rt.host, network.name)
    # Several workers of one host start together: one of them tops the pool up.
    with network_pool.prewarm_turn(rt.redis, rt.host):
        size = network_pool.idle_count(rt.redis, rt.host)
        for _ in range(max(0, rt.settings.network_pool_size - size)):
            network_pool.offer(rt.redis, rt.host, create(rt))
    return network_pool.idle_count(rt.redis, rt.host)


def drain(rt: Runtime) -> int:
    """Remove the idle pooled networks (a worker stopping leaves nothing behind; the pool
    refills on demand). Networks that jobs hold are theirs to give back."""
    removed = 0
    while name := network_pool.pop_idle(rt.redis, rt.host):
        _remove(rt, name)
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
