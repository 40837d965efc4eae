"""What maintenance reads and removes on an engine: listings with labels, df, removals.

Plain calls like the other adapters; kept apart from `images` and `networks`
because only cleanup and reconcile use them, and they never force a removal.
"""

from __future__ import annotations

from typing import Any

import docker


def containers(
    client: docker.DockerClient, labels: list[str], statuses: list[str] | None = None
) -> list[dict[str, Any]]:
    """``GET /containers/json?all=1`` rows carrying every label in `labels`."""
    filters: dict[str, Any] = {"label": labels}
    if statuses:
        filters["status"] = statuses
    rows: list[dict[str, Any]] = client.api.containers(all=True, filters=filters)
    return rows


def all_container_images(client: docker.DockerClient) -> set[str]:
    """Image ids used by any container of the engine, in any state, the fleet's or not."""
    return {str(r.get("ImageID", "")) for r in client.api.containers(all=True)}


def images(client: docker.DockerClient, labels: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = client.api.images(filters={"label": labels})
    return rows


def image_sizes(client: docker.DockerClient) -> tuple[int, dict[str, int]]:
    """(bytes of all image layers, image id -> bytes its removal frees) from ``docker df``."""
    doc = client.api.df()
    freed = {}
    for row in doc.get("Images") or []:
        shared = row.get("SharedSize", -1)
        size = int(row.get("Size", 0))
        freed[str(row["Id"])] = size - shared if shared is not None and shared >= 0 else size
    return int(doc.get("LayersSize", 0)), freed


def remove_image(client: docker.DockerClient, ref: str) -> bool:
    """Remove one image reference (never forced); False when it was already gone."""
    try:
        client.api.remove_image(ref, force=False)
    except docker.errors.ImageNotFound:
        return False
    return True


def networks(client: docker.DockerClient, labels: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = client.api.networks(filters={"label": labels})
    return rows
