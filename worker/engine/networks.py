"""Network adapter: one engine call per function, `NetworkInfo` out.

Every function raises dockfleet errors only (`translated`), but for `create`,
`inspect` and `remove`: they hand out the engine's JSON and docker-py's errors to
the job runner and the network pool until they call `create_network`,
`inspect_network` and `remove_network` instead.
"""

from __future__ import annotations

from typing import Any

import docker
from docker.types import IPAMConfig, IPAMPool

from dockfleet import labels as fleet_labels
from dockfleet.errors import NetworkNotFound
from dockfleet.models import NetworkEndpoint, NetworkInfo
from worker.engine.errors import translated
from worker.engine.objects import engine_time


def create(
    client: docker.DockerClient,
    name: str,
    *,
    labels: dict[str, str],
    driver: str = "bridge",
    internal: bool = False,
    attachable: bool = False,
    subnet: str | None = None,
    gateway: str | None = None,
    enable_ipv6: bool = False,
    options: dict[str, str] | None = None,
) -> str:
    """Create a network; returns its id. A taken name is a 409, never a twin.

    Errors are docker-py's here; `create_network` raises them translated (`Conflict`).
    """
    ipam = None
    if subnet:
        ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=subnet, gateway=gateway)])
    response = client.api.create_network(
        name,
        driver=driver,
        internal=internal,
        attachable=attachable,
        labels=labels,
        ipam=ipam,
        enable_ipv6=enable_ipv6,
        options=options or None,
        # The engine (API < 1.44) allows two networks of one name unless asked not to.
        check_duplicate=True,
    )
    return str(response["Id"])


create_network = translated(create)


def inspect(client: docker.DockerClient, ref: str) -> dict[str, Any]:
    """The engine's inspect document, docker-py's errors untranslated (`inspect_network`)."""
    doc: dict[str, Any] = client.api.inspect_network(ref)
    return doc


@translated
def inspect_network(client: docker.DockerClient, ref: str, host: str) -> NetworkInfo:
    """The network `ref` names (a name, an id or its prefix).

    Raises:
        NetworkNotFound: there is none (named by `ref`).
    """
    try:
        return network_info(inspect(client, ref), host)
    except docker.errors.NotFound:
        raise NetworkNotFound(ref, host) from None


@translated
def find_by_name(client: docker.DockerClient, name: str, host: str) -> NetworkInfo | None:
    """The network named exactly `name`, if there is one."""
    rows: list[dict[str, Any]] = client.api.networks(names=[name])
    for row in rows:
        if row.get("Name") == name:
            return network_info(inspect(client, row["Id"]), host)
    return None


@translated
def list_networks(
    client: docker.DockerClient, host: str, filters: dict[str, Any]
) -> list[NetworkInfo]:
    """The networks an engine-side filter selects, as listed (endpoints not included)."""
    rows: list[dict[str, Any]] = client.api.networks(filters=filters)
    return [network_info(row, host) for row in rows]


def remove(client: docker.DockerClient, ref: str) -> bool:
    """Remove a network; False when it was already gone.

    Errors are docker-py's here; `remove_network` raises them translated.
    """
    try:
        client.api.remove_network(ref)
    except docker.errors.NotFound:
        return False
    return True


remove_network = translated(remove)


@translated
def connect(
    client: docker.DockerClient,
    network: str,
    container: str,
    aliases: list[str] | None = None,
    *,
    ipv4_address: str | None = None,
) -> None:
    client.api.connect_container_to_network(
        container, network, aliases=aliases, ipv4_address=ipv4_address
    )


@translated
def disconnect(client: docker.DockerClient, network: str, container: str, force: bool) -> None:
    client.api.disconnect_container_from_network(container, network, force=force)


@translated
def swarm_active(client: docker.DockerClient) -> bool:
    """Whether the engine is a node of a swarm (overlay networks need one)."""
    swarm = client.api.info().get("Swarm") or {}
    return str(swarm.get("LocalNodeState", "inactive")) == "active"


def network_info(doc: dict[str, Any], host: str) -> NetworkInfo:
    """A `NetworkInfo` from an inspect document (or a list row)."""
    configs = (doc.get("IPAM") or {}).get("Config") or []
    labels = doc.get("Labels") or {}
    return NetworkInfo(
        id=doc["Id"],
        name=doc.get("Name", ""),
        host=host,
        driver=doc.get("Driver", ""),
        scope=doc.get("Scope", ""),
        internal=bool(doc.get("Internal")),
        attachable=bool(doc.get("Attachable")),
        enable_ipv6=bool(doc.get("EnableIPv6")),
        subnets=[c["Subnet"] for c in configs if c.get("Subnet")],
        gateways=[c["Gateway"] for c in configs if c.get("Gateway")],
        labels=labels,
        options=doc.get("Options") or {},
        containers=[
            NetworkEndpoint(
                id=cid,
                name=ep.get("Name", ""),
                ipv4_address=(ep.get("IPv4Address") or "").split("/")[0],
                ipv6_address=(ep.get("IPv6Address") or "").split("/")[0],
            )
            for cid, ep in (doc.get("Containers") or {}).items()
        ],
        created=engine_time(doc.get("Created")),
        managed=fleet_labels.is_managed(labels),
    )
