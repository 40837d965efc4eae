"""Container operations of one host: policy, limits, ownership, adoption, routing index.

Tasks call these; these call the engine adapter. Every create is checked
against the policy before any Docker call, counted against `max_containers`
under the host's lock, labelled as the fleet's, and adopted rather than
duplicated when a redelivered message asks for it again.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dockfleet import labels as fleet_labels
from dockfleet.errors import (
    Conflict,
    ContainerLimitReached,
    ContainerNotFound,
    InvalidSpec,
    PolicyViolation,
)
from dockfleet.logconfig import event
from dockfleet.models import (
    BatchAction,
    BatchOutcome,
    ContainerConfig,
    ContainerFilter,
    ContainerInfo,
    ImageInfo,
    RemoveResult,
    WaitResult,
)
from dockfleet.models.container_state import listing_order
from dockfleet.policy import check_container
from dockfleet.policy_limits import with_policy_limits
from dockfleet.policy_scope import check_user_container
from dockfleet.store import image_use, routing_index
from dockfleet.store.batch import together
from worker.engine import containers as engine
from worker.engine import images as engine_images
from worker.engine.convert import create_arguments
from worker.engine.objects import ContainerSummary, container_summary
from worker.ops import host_paths, scope, users
from worker.ops.slots import host_slot_lock
from worker.process import state_cache
from worker.runtime import Runtime

log = logging.getLogger(__name__)
BATCH_PARALLELISM = 4


def create(
    rt: Runtime,
    config: ContainerConfig,
    *,
    job: str | None = None,
    image: ImageInfo | None = None,
    slot_wait: float | None = None,
) -> ContainerInfo:
    """Create a container on this host, or adopt the one an earlier delivery made.

    `slot_wait`: how long to wait for the host's slot lock (`SlotsBusy` after it;
    default: the operation timeout).

    A caller that knows the image (the job runner, which just made sure of it)
    gets back a summary of what it asked for instead of an inspect of the new
    container: a job needs only the id, and the state cache gets the full
    summary from the engine's "create" event.
    """
    policy = rt.settings.policy
    check_container(config, policy)
    if job is None:  # a user's create: the fleet's own names are not for it
        check_user_container(config)
    scope.check_join(rt, config.network, job)
    if config.cpu_limit and rt.host_cpus and config.cpu_limit > rt.host_cpus:
        raise InvalidSpec(
            f"cpu_limit: {config.cpu_limit} exceeds the {rt.host_cpus} CPUs of host {rt.host!r}"
        )
    request = scope.request_label(config, job)
    labels = fleet_labels.ownership(
        rt.host, job=job, request=request, max_lifetime=config.max_lifetime
    )
    known_image = image
    if image is None:
        image = engine_images.inspect_if_present(rt.docker, config.reference, rt.host)
    labels = scope.without_inherited(labels, image)
    host_paths.check_binds(rt, config, image)
    runs_as = users.run_as(rt, config, image)
    config = with_policy_limits(config, policy, host_cpus=rt.host_cpus)
    arguments = create_arguments(config, policy, labels, user=runs_as.user, home=runs_as.home)
    wait = rt.settings.default_timeout if slot_wait is None else slot_wait
    # Under the lock: the count and the create, nothing else (every waiter waits for it).
    with host_slot_lock(rt.redis, rt.host, wait) as hold:
        fleet = fleet_summaries(rt)
        adopted = _adoptable(fleet, config, request)
        if adopted is None:
            if len(fleet) >= rt.settings.max_containers:
                raise ContainerLimitReached(rt.host, rt.settings.max_containers)
            container_id = engine.create(rt.docker, arguments)
    if adopted is not None:
        info = engine.inspect(rt.docker, adopted, rt.host)
    else:
        if not hold.kept:
            _recount(rt, container_id, wait)
        info = (
            engine.inspect(rt.docker, container_id, rt.host)
            if known_image is None
            else _made_info(rt, container_id, config, labels, known_image.id)
        )
        event(
            log,
            "container.created",
            "container {container:.12} ({container_name}) created on host {host} from {image}",
            host=rt.host,
            job=job,
            container=info.id,
            container_name=info.name,
            image=config.reference,
        )
    with together(rt.redis) as pipe:  # one round trip
        routing_index.remember(pipe, info)
        # Last use of the image, for cleanup's least-recently-used eviction.
        image_use.touch(pipe, rt.host, [info.image_id])
    if adopted is not None or known_image is None:  # an inspect, not only what was asked for
        state_cache.put(rt, info)
    return info


def _recount(rt: Runtime, container_id: str, wait: float) -> None:
    """Count the host again after a create whose slot lock lapsed while it was held (its
    worker was paused past the lock's TTL): if another create took the last slot
    meanwhile, this one gives its container back and the host is full."""
    with host_slot_lock(rt.redis, rt.host, wait):
        if len(fleet_summaries(rt)) <= rt.settings.max_containers:
            return
        engine.remove(rt.docker, container_id, force=True, volumes=False)
    log.warning("host %s: a create raced past max_containers; it waits again", rt.host)
    raise ContainerLimitReached(rt.host, rt.settings.max_containers)


def _made_info(
    rt: Runtime, container_id: str, config: ContainerConfig, labels: dict[str, str], image_id: str
) -> ContainerInfo:
    """What this worker knows of a container it just made, without asking the engine."""
    return ContainerInfo(
        id=container_id,
        name=config.name or "",
        host=rt.host,
        image=config.reference,
        image_id=image_id,
        status="created",
        labels={**config.labels, **labels},
        managed=True,
    )


def _adoptable(
    fleet: list[ContainerSummary], config: ContainerConfig, request: str | None
) -> str | None:
    """The id of a container this same request already created, if any."""
    for container in fleet:
        if request and container.labels.get(fleet_labels.REQUEST) == request:
            return container.id
    if config.name:
        for container in fleet:
            if f"/{config.name}" in container.names:
                raise Conflict(f"the name {config.name!r} is already in use by {container.id[:12]}")
    return None


def owned(rt: Runtime, ref: str) -> ContainerInfo:
    """The container `ref` names, if the fleet may act on it: by default only one it made
    (an operator's own containers, compose's Flower with its password in its env, are
    none of the fleet's business); ``allow_unmanaged`` lifts that.

    Raises:
        ContainerNotFound: no such container on this host.
        PolicyViolation: the fleet did not make it.
    """
    info = engine.inspect(rt.docker, ref, rt.host)
    if not info.managed and not rt.settings.policy.allow_unmanaged:
        raise PolicyViolation(
            "unmanaged-container",
            f"container={info.name or info.short_id}",
            "the fleet acts only on containers it made (DOCKFLEET_POLICY__ALLOW_UNMANAGED)",
        )
    return info


def inspect(rt: Runtime, ref: str) -> ContainerInfo:
    info = owned(rt, ref)
    routing_index.remember(rt.redis, info)
    return info


def start(rt: Runtime, ref: str) -> ContainerInfo:
    engine.start(rt.docker, owned(rt, ref).id)
    return _changed(rt, engine.inspect(rt.docker, ref, rt.host))


def stop(rt: Runtime, ref: str, timeout: int | None) -> ContainerInfo:
    engine.stop(rt.docker, owned(rt, ref).id, _grace(rt, timeout))
    return _changed(rt, engine.inspect(rt.docker, ref, rt.host))


def restart(rt: Runtime, ref: str, timeout: int | None) -> ContainerInfo:
    engine.restart(rt.docker, owned(rt, ref).id, _grace(rt, timeout))
    return _changed(rt, engine.inspect(rt.docker, ref, rt.host))


def kill(rt: Runtime, ref: str, signal: str) -> ContainerInfo:
    engine.kill(rt.docker, owned(rt, ref).id, signal)
    return _changed(rt, engine.inspect(rt.docker, ref, rt.host))


def remove(rt: Runtime, ref: str, *, force: bool, volumes: bool = False) -> RemoveResult:
    """Remove a container; one already gone is success (``removed=False``)."""
    try:
        info = owned(rt, ref)
    except ContainerNotFound:
        return RemoveResult(id=ref, host=rt.host, removed=False)
    removed = _remove(rt, info, force=force, volumes=volumes)
    return RemoveResult(id=info.id, host=rt.host, removed=removed)


def remove_listed(rt: Runtime, row: dict[str, Any]) -> None:
    """Remove a container found by `engine.list_summaries` (use `remove_summary`)."""
    remove_summary(rt, container_summary(row))


def remove_summary(rt: Runtime, container: ContainerSummary) -> None:
    """Remove a container found by a listing (its summary names it: no inspect needed)."""
    _remove(rt, _known(rt, container.id, container.name, container.labels), force=True)


def remove_made(rt: Runtime, container_id: str, name: str, job: str) -> None:
    """Remove a container of a job that this worker made (known by id: no lookup)."""
    _remove(rt, _known(rt, container_id, name, {fleet_labels.JOB: job}), force=True)


def _known(rt: Runtime, container_id: str, name: str, labels: dict[str, str]) -> ContainerInfo:
    """What removing a container needs of it, from what the caller knows already."""
    return ContainerInfo(
        id=container_id, name=name, host=rt.host, image="", status="unknown", labels=labels
    )


def _remove(rt: Runtime, info: ContainerInfo, *, force: bool, volumes: bool = False) -> bool:
    with state_cache.removing(rt, info.id):  # drops the entry, once
        removed = engine.remove(rt.docker, info.id, force=force, volumes=volumes)
    routing_index.forget(rt.redis, info)
    if removed:
        event(
            log,
            "container.removed",
            "container {container:.12} ({container_name}) removed from host {host}",
            host=rt.host,
            job=info.labels.get(fleet_labels.JOB),
            container=info.id,
            container_name=info.name,
        )
    return removed


def wait(rt: Runtime, ref: str, timeout: float | None) -> WaitResult:
    owned(rt, ref)
    container_id, exit_code, error = engine.wait(rt.docker, ref, rt.host, timeout)
    # One inspect for the OOM flag and the state cache: a caller that lists right after
    # the wait must see the exit, not the cache as it was before the "die" event lands.
    try:
        oom_killed = _changed(rt, engine.inspect(rt.docker, container_id, rt.host)).oom_killed
    except ContainerNotFound:  # removed on exit (auto-remove)
        state_cache.drop(rt, container_id)
        oom_killed = False
    return WaitResult(
        id=container_id, host=rt.host, exit_code=exit_code, error=error, oom_killed=oom_killed
    )


def list_containers(rt: Runtime, query: ContainerFilter) -> list[ContainerInfo]:
    """Containers of this host matching `query`, newest first, at most `query.limit`."""
    managed = None if query.include_unmanaged else f"{fleet_labels.HOST}={rt.host}"
    filters = engine.engine_filters(query, managed)
    listed = engine.list_containers(rt.docker, rt.host, filters)
    infos = sorted(listed, key=listing_order, reverse=True)
    return infos[: query.limit] if query.limit else infos


def batch(
    rt: Runtime, action: BatchAction, query: ContainerFilter, timeout: int | None
) -> list[BatchOutcome]:
    """Stop, restart or remove every matching container of this host; one outcome each
    (only the fleet's own, unless the policy allows more)."""
    if query.include_unmanaged and not rt.settings.policy.allow_unmanaged:
        query = query.model_copy(update={"include_unmanaged": False})
    targets = list_containers(rt, query)

    def act(info: ContainerInfo) -> BatchOutcome:
        try:
            if action == "stop":
                stop(rt, info.id, timeout)
            elif action == "restart":
                restart(rt, info.id, timeout)
            else:
                remove(rt, info.id, force=True)
        except Exception as exc:  # one container's failure must not hide the others'
            return BatchOutcome(
                host=rt.host, id=info.id, name=info.name, action=action, ok=False, error=str(exc)
            )
        return BatchOutcome(host=rt.host, id=info.id, name=info.name, action=action, ok=True)

    with ThreadPoolExecutor(BATCH_PARALLELISM) as pool:
        return list(pool.map(act, targets))


def _changed(rt: Runtime, info: ContainerInfo) -> ContainerInfo:
    """Mirror a container the fleet just changed into the state cache, and pass it on."""
    state_cache.put(rt, info)
    return info


def _grace(rt: Runtime, timeout: int | None) -> int:
    return int(rt.settings.default_timeout if timeout is None else timeout)


def fleet_summaries(rt: Runtime) -> list[ContainerSummary]:
    """Every container the fleet made on this host, in any state (what max_containers counts)."""
    labels = [f"{fleet_labels.MANAGED}=true", f"{fleet_labels.HOST}={rt.host}"]
    return engine.summaries(rt.docker, {"label": labels})
