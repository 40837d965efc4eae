"""What maintenance reads and removes on an engine: listings with labels, df, removals.

Plain calls like the other adapters; kept apart from `images` and `networks`
because only cleanup and reconcile use them, and they never force a removal.
"""

from __future__ import annotations

from typing import Any

import docker

from worker.engine.errors import translated
from worker.engine.objects import ContainerSummary, container_summary


@translated
def containers(
    client: docker.DockerClient, labels: list[str], statuses: list[str] | None = None
) -> list[ContainerSummary]:
    """Every container (stopped ones too) carrying every label in `labels`."""
    filters: dict[str, Any] = {"label": labels}
    if statuses:
        filters["status"] = statuses
    rows: list[dict[str, Any]] = client.api.containers(all=True, filters=filters)
    return [container_summary(row) for row in rows]


@translated
def all_container_images(client: docker.DockerClient) -> set[str]:
    """Image ids used by any container of the engine, in any state, the fleet's or not."""
    return {str(r.get("ImageID", "")) for r in client.api.containers(all=True)}


@translated
def network_users(client: docker.DockerClient, network_id: str) -> set[str]:
    """Ids of the containers attached to a network, running or not.

    A stopped container keeps its attachment (and fails to start without the
    network), though only running ones have an endpoint in the network's inspect.
    """
    rows = client.api.containers(all=True, filters={"network": network_id})
    endpoints = client.api.inspect_network(network_id).get("Containers") or {}
    return {str(r["Id"]) for r in rows} | {str(c) for c in endpoints}


@translated
def image_sizes(client: docker.DockerClient) -> tuple[int, dict[str, int]]:
    """(bytes of all image layers, image id -> bytes its removal frees) from ``docker df``."""
    doc = client.api.df()
    freed = {}
    for row in doc.get("Images") or []:
        shared = row.get("SharedSize", -1)
        size = int(row.get("Size", 0))
        freed[str(row["Id"])] = size - shared if shared is not None and shared >= 0 else size
    return int(doc.get("LayersSize", 0)), freed


@translated
def remove_image(client: docker.DockerClient, ref: str) -> bool:
    """Remove one image reference (never forced); False when it was already gone."""
    try:
        client.api.remove_image(ref, force=False)
    except docker.errors.ImageNotFound:
        return False
    return True
