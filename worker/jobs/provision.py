"""Provisioning a job: its network, its services, its container (with its workspace and
its caches), then the start once the services are ready.

Each object is made once however many runs the job sees: its name derives
from the job id, a run that is not the first looks for it before making it
(and adopts it), and the lease is confirmed before each one is made. A full
host is a queue: the job waits for a slot within its timeout. The job's
container is made while its services come up, so that its workspace (`workspace`)
streams in meanwhile; it starts only with the workspace in and the services ready.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import replace
from typing import Any

from dockfleet import labels as fleet_labels
from dockfleet.errors import (
    Conflict,
    ContainerLimitReached,
    ContainerNotFound,
    InvalidSpec,
    JobCanceled,
    SlotsBusy,
)
from dockfleet.models import Cache, ContainerConfig, ImageInfo
from dockfleet.names import object_name
from dockfleet.redis_retry import retrying
from dockfleet.store import job_records
from worker.engine import containers as engine
from worker.engine import networks
from worker.engine.objects import ContainerState
from worker.jobs import job_image, netpool, workspace
from worker.jobs.job_run import JobRun
from worker.jobs.services import wait_ready
from worker.ops import cache_ops, container_ops
from worker.process import state_cache

SLOT_POLL_SECONDS = 0.2
#: a job waits for the host's slot lock this long at a time, then looks at its
#: timeout and its cancel flag, and waits again
SLOT_LOCK_WAIT_SECONDS = 5.0


def provision(run: JobRun) -> ContainerState:
    """Make (or find) the job's network, services and container, unpack its workspace,
    wait for the services, then start the job's container; returns what supervising it
    needs (id, TTY, state)."""
    network = run.network = _network(run)
    started = [(s, _start(run, _service_config(run, s, network))) for s in run.spec.services]
    config = _job_config(run, network)
    assert config.name is not None
    waits = bool(started) or run.spec.workspace is not None
    # With nothing to wait for between its create and its start, the cache reads both at once.
    with nullcontext() if waits else state_cache.start_follows(config.name):
        job = _made(run, config, is_job=True)
        if job.status == "created" and run.spec.workspace is not None:
            workspace.put(run, job.id, config)
        wait_ready(run.rt, run.job_id, [(s, state.id) for s, state in started])
        return _started(run, job, is_job=True)


def _network(run: JobRun) -> str | None:
    if not run.spec.network or run.spec.container.network:
        return run.spec.container.network
    if run.rt.settings.network_pool_size > 0:
        return _pooled_network(run)
    name = object_name(run.job_id)
    labels = fleet_labels.ownership(run.rt.host, job=run.job_id)
    run.hold()
    try:
        networks.create_network(run.rt.docker, name, labels=labels)
    except Conflict:
        owner = networks.inspect_network(run.rt.docker, name, run.rt.host).labels.get(
            fleet_labels.JOB
        )
        if owner != run.job_id:
            raise InvalidSpec(f"network {name!r} exists and is not this job's") from None
    return name


def _pooled_network(run: JobRun) -> str:
    """The job's network from the warm pool; after a crash, the one it had already (a
    first run has none to look for)."""
    held = None if run.fresh else job_records.network(run.rt.redis, run.job_id)
    if held:
        return held
    name = netpool.take(run.rt, run.job_id)
    held = job_records.hold_network(run.rt.redis, run.job_id, name)
    if held != name:  # another run got there first
        netpool.give_back(run.rt, name)
    return held


def _service_config(run: JobRun, service: Any, network: str | None) -> ContainerConfig:
    if network is None:
        raise InvalidSpec("services: need the job network (network=true) or container.network")
    return service.container.model_copy(  # type: ignore[no-any-return]
        update={
            "name": object_name(run.job_id, service.alias),
            "network": network,
            "network_aliases": [service.alias],
            "labels": {**service.container.labels, **run.spec.labels},
            "request_id": f"{run.job_id}/{service.alias}",
        }
    )


def _job_config(run: JobRun, network: str | None) -> ContainerConfig:
    config = run.spec.job_container()
    update: dict[str, Any] = {
        "name": object_name(run.job_id),
        "network": network,
        "labels": {**config.labels, **run.spec.labels},
        "request_id": f"{run.job_id}/job",
    }
    if run.spec.caches:  # the job's container only: its services share none
        update["volumes"] = {**config.volumes, **cache_ops.binds(run.spec.caches)}
    return config.model_copy(update=update)


def _start(run: JobRun, config: ContainerConfig) -> ContainerState:
    """Create (or adopt, when an earlier run made it) and start a service's container."""
    return _started(run, _made(run, config))


def _made(run: JobRun, config: ContainerConfig, is_job: bool = False) -> ContainerState:
    """Create a container, or find the one an earlier run made (to adopt, not duplicate).

    Returns what the rest of the run needs of it (id, TTY, status); a first run
    skips the lookups an adoption needs (every engine call counts in a CI job).
    """
    assert config.name is not None
    run.hold()
    state = None if run.fresh else _existing(run, config.name, is_job)
    if state is None:
        image = job_image.ensure(run.rt, config.reference, run.spec.pull)
        caches = run.spec.caches if is_job else []
        created, new_caches = _create_when_a_slot_frees(run, config, image, caches)
        run.created.append((created, config.name))
        cache_ops.own(run.rt, created, config, image, new_caches)
        state = ContainerState(id=created, name=config.name, status="created")
    return state


def _started(run: JobRun, state: ContainerState, is_job: bool = False) -> ContainerState:
    """Start a container that is only created (one already running is left as it is)."""
    if state.status == "created":
        if is_job:
            if run.spec.workspace is not None or run.spec.services:
                run.hold()  # the upload and the services took time: is the job still ours?
            stamp = run.started_at = job_records.now_iso()
            retrying(lambda: job_records.mark_started(run.rt.redis, run.job_id, stamp), "start")
        engine.start(run.rt.docker, state.id)
        state = replace(state, status="running", running=True)
    return state


def _existing(run: JobRun, name: str, is_job: bool) -> ContainerState | None:
    """The container an earlier run of this job made, if any (to adopt, not duplicate)."""
    try:
        state = engine.inspect_state(run.rt.docker, name)
    except ContainerNotFound:
        return None
    if state.job != run.job_id:
        raise InvalidSpec(f"container {name!r} exists and is not this job's")
    run.adopted = run.adopted or is_job
    return state


def _create_when_a_slot_frees(
    run: JobRun, config: ContainerConfig, image: ImageInfo, caches: list[Cache]
) -> tuple[str, list[str]]:
    """Create the container, waiting (within the job's timeout) while the host is full;
    returns its id and the paths of the `caches` made for it (`cache_ops.mount`).

    A full host is a queue, not a failure: CI jobs wait for capacity. So is a host
    whose slot lock other creates hold (a slow engine): the job waits its turn.
    """
    delay = SLOT_POLL_SECONDS
    new_caches: list[str] = []
    while True:
        # Before each try: a cache evicted while the job waited is made again, and the
        # use recorded just now keeps eviction off it until the create holds it.
        new_caches += cache_ops.mount(run.rt, caches)
        try:
            made = container_ops.create(
                run.rt, config, job=run.job_id, image=image, slot_wait=SLOT_LOCK_WAIT_SECONDS
            )
            return made.id, new_caches
        except (ContainerLimitReached, SlotsBusy):
            if time.monotonic() - run.began > run.spec.timeout:
                raise
            if run.cancel_requested():
                raise JobCanceled(f"job {run.job_id} canceled while waiting for a slot") from None
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)
