"""Translates between dockfleet models and the Docker Engine API's JSON.

`create_arguments` turns a `ContainerConfig` into the body of
``POST /containers/create`` with the security defaults applied;
`container_info` and `summary_info` turn an inspect document and a list row
into a `ContainerInfo`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from docker.types import Healthcheck

from dockfleet import labels as fleet_labels
from dockfleet.models import ContainerConfig, ContainerInfo, Mount, PortBinding
from dockfleet.policy_limits import effective_pids_limit, nano_cpus, sized_tmpfs
from dockfleet.policy_model import SecurityPolicy
from worker.engine.objects import container_state
from worker.engine.objects import engine_time as engine_time  # importable from here too

NANO = 1_000_000_000
NO_NEW_PRIVILEGES = "no-new-privileges:true"
MASK = "***"


def create_arguments(
    config: ContainerConfig,
    policy: SecurityPolicy,
    labels: dict[str, str],
    *,
    user: str | None,
    home: str | None = None,
) -> dict[str, Any]:
    """Keyword arguments for ``APIClient.create_container`` (host config included).

    Args:
        user: the ``User`` to run as (`worker.ops.users` decides); None keeps the image's.
        home: a writable tmpfs ``HOME`` for `user` (one the image has no home for).
    """
    secret_keys = sorted(config.secret_env)
    all_labels = {**config.labels, **labels}
    if secret_keys:
        # Lets inspect and logs mask these values later, from the container alone.
        all_labels[fleet_labels.SECRET_ENV] = fleet_labels.secret_env_label(secret_keys)
    environment = [*config.env, *(f"{k}={v}" for k, v in config.secret_values_by_key())]
    if home:
        environment.append(f"HOME={home}")
    container_ports = [_container_port(p) for p in config.ports.values()]
    return {
        "image": config.reference,
        "name": config.name,
        "command": config.cmd,
        "entrypoint": config.entrypoint,
        "environment": environment,
        "labels": all_labels,
        "user": user,
        "working_dir": config.working_dir,
        "hostname": config.hostname,
        "ports": container_ports or None,
        "healthcheck": _healthcheck(config),
        "stop_timeout": config.stop_timeout,
        "networking_config": _networking(config),
        "host_config": host_config(config, policy, home_for=(user, home) if home else None),
    }


def host_config(
    config: ContainerConfig,
    policy: SecurityPolicy,
    *,
    home_for: tuple[str | None, str] | None = None,
) -> dict[str, Any]:
    """The HostConfig JSON: limits, mounts, ports and the security defaults.

    `home_for` is (user, path): a tmpfs home at path, owned by user when it is numeric.
    """
    # Last: the engine takes the last no-new-privileges it is given.
    security_opt = [*config.security_opt, NO_NEW_PRIVILEGES]
    binds = []
    for source, target in config.volumes.items():
        path, _, mode = target.partition(":")
        binds.append(f"{source}:{path}:{mode or 'rw'}")
    result: dict[str, Any] = {
        "Binds": binds or None,
        "PortBindings": _port_bindings(config.ports) or None,
        "CapDrop": ["ALL"],
        "CapAdd": config.cap_add or None,
        "SecurityOpt": security_opt,
        "PidsLimit": effective_pids_limit(config, policy),
        "Privileged": config.privileged,
        "ReadonlyRootfs": config.read_only,
        "Tmpfs": {**config.tmpfs, **_home_tmpfs(home_for, policy.max_tmpfs_size)} or None,
        "Init": config.init or None,
        "RestartPolicy": {
            "Name": "" if config.restart_policy.name == "no" else config.restart_policy.name,
            "MaximumRetryCount": config.restart_policy.max_retry,
        },
        "Ulimits": [{"Name": u.name, "Soft": u.soft, "Hard": u.hard} for u in config.ulimits]
        or None,
        "NetworkMode": config.network or "default",
    }
    if config.cpu_limit:
        result["NanoCpus"] = nano_cpus(config.cpu_limit)
    if config.memory_limit:
        # No swap beyond the limit: a CI job's memory use should be what it is asked for.
        result["Memory"] = config.memory_limit
        result["MemorySwap"] = config.memory_limit
    if config.shm_size:
        result["ShmSize"] = config.shm_size
    return {k: v for k, v in result.items() if v is not None}


def _home_tmpfs(home_for: tuple[str | None, str] | None, size: int) -> dict[str, str]:
    if home_for is None:
        return {}
    user, path = home_for
    uid, _, gid = (user or "").partition(":")
    if uid.isdigit() and (not gid or gid.isdigit()):
        owner = f",uid={uid},gid={gid or uid},mode=0700"
    else:
        owner = ",mode=1777"  # a user name: the engine alone knows its uid
    # exec: tools installed under $HOME (pip --user, npm) run from there.
    return {path: sized_tmpfs("rw,exec,nosuid,nodev" + owner, size)}


def _networking(config: ContainerConfig) -> dict[str, Any] | None:
    """Aliases on the container's network, set at create so DNS knows it from the start."""
    if not (config.network and config.network_aliases):
        return None
    return {"EndpointsConfig": {config.network: {"Aliases": config.network_aliases}}}


def _container_port(spec: str) -> int | tuple[int, str]:
    port, _, proto = spec.partition("/")
    return (int(port), proto) if proto and proto != "tcp" else int(port)


def _port_bindings(ports: dict[str, str]) -> dict[str, list[dict[str, str]]]:
    bindings: dict[str, list[dict[str, str]]] = {}
    for host_spec, container in ports.items():
        ip, _, port = host_spec.rpartition(":")
        key = container if "/" in container else f"{container}/tcp"
        bindings.setdefault(key, []).append({"HostIp": ip.strip("[]"), "HostPort": port})
    return bindings


def _healthcheck(config: ContainerConfig) -> Healthcheck | None:
    check = config.health_check
    if check is None:
        return None
    return Healthcheck(
        test=check.test,
        interval=int(check.interval * NANO),
        timeout=int(check.timeout * NANO),
        retries=check.retries,
        start_period=int(check.start_period * NANO),
    )


def container_info(doc: dict[str, Any], host: str) -> ContainerInfo:
    """A `ContainerInfo` from ``GET /containers/{id}/json``, secret env values masked."""
    state = container_state(doc)
    config = doc.get("Config") or {}
    hc = doc.get("HostConfig") or {}
    secret_keys = fleet_labels.secret_env_keys(state.labels)
    ports = [
        PortBinding(
            container_port=port, host_ip=b.get("HostIp", ""), host_port=b.get("HostPort", "")
        )
        for port, binds in ((doc.get("NetworkSettings") or {}).get("Ports") or {}).items()
        for b in (binds or [{}])
    ]
    mounts = [
        Mount(
            type=m.get("Type", ""),
            source=m.get("Source") or m.get("Name", ""),
            destination=m.get("Destination", ""),
            read_only=not m.get("RW", True),
        )
        for m in doc.get("Mounts") or []
    ]
    return ContainerInfo(
        id=state.id,
        name=state.name,
        host=host,
        image=config.get("Image", ""),
        image_id=doc.get("Image", ""),
        status=state.status,
        created=state.created,
        started_at=state.started_at,
        finished_at=state.finished_at,
        exit_code=state.exit_code if state.status in ("exited", "dead") else None,
        oom_killed=state.oom_killed,
        health=state.health,
        command=[*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])],
        labels=state.labels,
        env=[mask_env(item, secret_keys) for item in config.get("Env") or []],
        ports=ports,
        mounts=mounts,
        networks=sorted(((doc.get("NetworkSettings") or {}).get("Networks") or {}).keys()),
        user=config.get("User", ""),
        nano_cpus=hc.get("NanoCpus") or 0,
        memory=state.memory_limit,
        pids_limit=hc.get("PidsLimit"),
        privileged=bool(hc.get("Privileged")),
        read_only=bool(hc.get("ReadonlyRootfs")),
        cap_add=hc.get("CapAdd") or [],
        cap_drop=hc.get("CapDrop") or [],
        security_opt=hc.get("SecurityOpt") or [],
        managed=state.managed,
    )


def mask_env(item: str, secret_keys: set[str]) -> str:
    key, sep, _ = item.partition("=")
    return f"{key}={MASK}" if sep and key in secret_keys else item


def summary_info(row: dict[str, Any], host: str) -> ContainerInfo:
    """A `ContainerInfo` from a ``GET /containers/json`` row (no per-container inspect)."""
    labels = row.get("Labels") or {}
    ports = [
        PortBinding(
            container_port=f"{p.get('PrivatePort')}/{p.get('Type', 'tcp')}",
            host_ip=p.get("IP", ""),
            host_port=str(p.get("PublicPort", "")),
        )
        for p in row.get("Ports") or []
    ]
    state = row.get("State", "unknown")
    return ContainerInfo(
        id=row["Id"],
        name=((row.get("Names") or ["/"])[0]).lstrip("/"),
        host=host,
        image=row.get("Image", ""),
        image_id=row.get("ImageID", ""),
        status=state,
        created=datetime.fromtimestamp(row.get("Created", 0), tz=UTC),
        command=[row.get("Command", "")] if row.get("Command") else [],
        labels=labels,
        ports=ports,
        networks=sorted(((row.get("NetworkSettings") or {}).get("Networks") or {}).keys()),
        managed=fleet_labels.is_managed(labels),
        exit_code=_exit_code(row.get("Status", "")) if state == "exited" else None,
    )


def _exit_code(status: str) -> int | None:
    # The list endpoint only says "Exited (137) 5 seconds ago".
    head, _, rest = status.partition("(")
    code = rest.partition(")")[0]
    return int(code) if head.strip() == "Exited" and code.lstrip("-").isdigit() else None
