"""Network operations of one host: idempotent create, guarded remove, connect, list.

A create is idempotent by name: the same options again return the network
that is there (a redelivered task adopts it), different options are a
`Conflict` that says what differs. A network still in use is not removed; the
error names the containers that hold it.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from dockfleet import labels as fleet_labels
from dockfleet.errors import Conflict, InvalidSpec, NetworkInUse, NotFound
from dockfleet.models import (
    NetworkFilter,
    NetworkInfo,
    NetworkOptions,
    RemoveResult,
)
from dockfleet.models.networks import check_aliases, check_network_name
from dockfleet.names import is_reserved_label
from dockfleet.policy_scope import check_network_create
from worker.engine import containers as engine_containers
from worker.engine import networks as engine
from worker.ops import scope
from worker.runtime import Runtime


def create(
    rt: Runtime, name: str, options: NetworkOptions, *, job: str | None = None
) -> NetworkInfo:
    """Create network `name` on this host, or return the one there with the same options.

    Raises:
        Conflict: a network of that name exists with other options, or not the fleet's.
        InvalidSpec: overlay on a host that is not in a swarm.
        PolicyViolation: a fleet name, or a driver, option or subnet the policy does not allow.
    """
    _check_name(name)
    check_network_create(name, options, rt.settings.policy)
    if options.driver == "overlay" and not engine.swarm_active(rt.docker):
        raise InvalidSpec(
            f"driver: overlay networks need a swarm and host {rt.host!r} is not in one "
            "(run `docker swarm init` or `join` there), or use driver=bridge"
        )
    existing = engine.find_by_name(rt.docker, name, rt.host)
    if existing is None:
        labels = {**options.labels, **fleet_labels.ownership(rt.host, job=job)}
        try:
            network_id = engine.create_network(
                rt.docker,
                name,
                labels=labels,
                driver=options.driver,
                internal=options.internal,
                attachable=options.attachable,
                subnet=options.subnet,
                gateway=options.gateway,
                enable_ipv6=options.enable_ipv6,
                options=options.options,
            )
        except Conflict:
            existing = engine.find_by_name(rt.docker, name, rt.host)  # another delivery won
            if existing is None:
                raise
        else:
            return engine.inspect_network(rt.docker, network_id, rt.host)
    info = existing
    differences = differences_from(info, options)
    if not info.managed:
        differences.insert(0, "it was not created by the fleet")
    if differences:
        raise Conflict(
            f"network {name!r} already exists on host {rt.host!r} and differs: "
            + "; ".join(differences)
        )
    return info.model_copy(update={"existed": True})


def differences_from(info: NetworkInfo, options: NetworkOptions) -> list[str]:
    """How an existing network differs from `options` (empty when it matches)."""
    found: list[str] = []
    for field in ("driver", "internal", "attachable", "enable_ipv6"):
        have, want = getattr(info, field), getattr(options, field)
        if have != want:
            found.append(f"{field} is {have}, asked {want}")
    if options.subnet and options.subnet not in {_cidr(s) for s in info.subnets}:
        found.append(f"subnet is {', '.join(info.subnets) or 'none'}, asked {options.subnet}")
    if options.gateway and options.gateway not in info.gateways:
        found.append(f"gateway is {', '.join(info.gateways) or 'none'}, asked {options.gateway}")
    user_labels = {k: v for k, v in info.labels.items() if not is_reserved_label(k)}
    if user_labels != options.labels:
        found.append(f"labels are {user_labels}, asked {options.labels}")
    for key, value in options.options.items():
        if info.options.get(key) != value:
            found.append(f"option {key} is {info.options.get(key)!r}, asked {value!r}")
    return found


def inspect(rt: Runtime, ref: str) -> NetworkInfo:
    return engine.inspect_network(rt.docker, ref, rt.host)


def remove(rt: Runtime, ref: str) -> RemoveResult:
    """Remove a network; one already gone is success, one in use is `NetworkInUse`."""
    try:
        info = inspect(rt, ref)
    except NotFound:
        return RemoveResult(id=ref, host=rt.host, removed=False)
    scope.check_not_a_jobs(rt, info, None, ref)
    if info.containers:
        names = [c.name or c.id[:12] for c in info.containers]
        raise NetworkInUse(info.name, names, rt.host)
    removed = engine.remove_network(rt.docker, info.id)
    return RemoveResult(id=info.id, host=rt.host, removed=removed)


def connect(
    rt: Runtime,
    network: str,
    container: str,
    aliases: list[str],
    ipv4_address: str | None = None,
) -> NetworkInfo:
    """Attach a container (with DNS aliases); attaching one already there is success."""
    try:
        check_aliases(aliases)
    except ValueError as exc:
        raise InvalidSpec(f"aliases: {exc}") from None
    if ipv4_address is not None:
        try:
            ipaddress.IPv4Address(ipv4_address)
        except ValueError:
            raise InvalidSpec(f"ipv4_address: {ipv4_address!r} is not an IPv4 address") from None
    info = inspect(rt, network)
    state = engine_containers.inspect_state(rt.docker, container)
    scope.check_attach(rt, info, state, network)
    if info.id not in state.network_ids:
        engine.connect(rt.docker, info.id, state.id, aliases or None, ipv4_address=ipv4_address)
    return inspect(rt, info.id)


def disconnect(rt: Runtime, network: str, container: str, *, force: bool) -> NetworkInfo:
    """Detach a container; one not attached (or gone, with force) is success."""
    info = inspect(rt, network)
    scope.check_not_a_jobs(rt, info, None, network)
    try:
        state = engine_containers.inspect_state(rt.docker, container)
    except NotFound:
        if force:
            return info  # the container is gone: so is its endpoint
        raise
    scope.check_attach(rt, info, state, network)
    if info.id in state.network_ids:  # an endpoint, whether it runs or not
        engine.disconnect(rt.docker, info.id, state.id, force)
    return inspect(rt, info.id)


def list_networks(rt: Runtime, query: NetworkFilter) -> list[NetworkInfo]:
    """Networks of this host matching `query`, by name."""
    filters: dict[str, Any] = {}
    labels = [k if v is None else f"{k}={v}" for k, v in query.labels.items()]
    if not query.include_unmanaged:
        labels += [f"{fleet_labels.MANAGED}=true", f"{fleet_labels.HOST}={rt.host}"]
    if labels:
        filters["label"] = labels
    if query.name:
        filters["name"] = query.name
    if query.driver:
        filters["driver"] = query.driver
    return sorted(engine.list_networks(rt.docker, rt.host, filters), key=lambda i: i.name)


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        return value


def _check_name(name: str) -> None:
    try:
        check_network_name(name)
    except ValueError as exc:
        raise InvalidSpec(f"name: {exc}") from None
