"""Network adapter: one engine call per function."""

from __future__ import annotations

from typing import Any

import docker


def create(
    client: docker.DockerClient,
    name: str,
    *,
    labels: dict[str, str],
    driver: str = "bridge",
    internal: bool = False,
    attachable: bool = False,
) -> str:
    """Create a network; returns its id."""
    response = client.api.create_network(
        name, driver=driver, internal=internal, attachable=attachable, labels=labels
    )
    return str(response["Id"])


def inspect(client: docker.DockerClient, ref: str) -> dict[str, Any]:
    doc: dict[str, Any] = client.api.inspect_network(ref)
    return doc


def remove(client: docker.DockerClient, ref: str) -> bool:
    """Remove a network; False when it was already gone."""
    try:
        client.api.remove_network(ref)
    except docker.errors.NotFound:
        return False
    return True


def connect(
    client: docker.DockerClient, network: str, container: str, aliases: list[str] | None = None
) -> None:
    client.api.connect_container_to_network(container, network, aliases=aliases)


def disconnect(client: docker.DockerClient, network: str, container: str, force: bool) -> None:
    client.api.disconnect_container_from_network(container, network, force=force)
