"""Volume adapter: named volumes (the job caches', and those specs name), `objects.Volume` out.

One engine call per function; errors are dockfleet's (`translated`). A removal is
never forced: the engine refuses a volume that a container (running or not) still
holds, which is what keeps a cache in use from going.
"""

from __future__ import annotations

from typing import Any

import docker

from worker.engine.errors import translated
from worker.engine.objects import Volume, container_summary, volume


@translated
def ensure(client: docker.DockerClient, name: str, labels: dict[str, str]) -> tuple[Volume, bool]:
    """The volume `name` and whether this call made it (with `labels`).

    One that exists comes back as it is, with its own labels (the caller judges whose
    it is); two callers making it at once both get it (the engine's create is idempotent).
    """
    try:
        return volume(client.api.inspect_volume(name)), False
    except docker.errors.NotFound:
        return volume(client.api.create_volume(name, labels=labels)), True


@translated
def inspect_if_present(client: docker.DockerClient, name: str) -> Volume | None:
    """Volume `name` as the engine has it, or None when there is none (yet)."""
    try:
        return volume(client.api.inspect_volume(name))
    except docker.errors.NotFound:
        return None


@translated
def list_volumes(client: docker.DockerClient, labels: list[str]) -> list[Volume]:
    """Every volume carrying every label in `labels`."""
    doc: dict[str, Any] = client.api.volumes(filters={"label": labels})
    return [volume(row) for row in doc.get("Volumes") or []]


@translated
def sizes(client: docker.DockerClient) -> dict[str, int]:
    """Volume name -> bytes it holds, from ``/system/df`` (-1 where the engine has none)."""
    doc = client.api.df()
    # API 1.52 and later also give them as VolumesDiskUsage's items (the old field may go).
    rows = doc.get("Volumes") or (doc.get("VolumesDiskUsage") or {}).get("Items") or []
    return {str(r["Name"]): int((r.get("UsageData") or {}).get("Size", -1)) for r in rows}


@translated
def mounted(client: docker.DockerClient, *, running_only: bool = True) -> dict[str, list[str]]:
    """Volume name -> names of the containers that mount it (by default, running ones)."""
    filters = {"status": ["running"]} if running_only else None
    rows: list[dict[str, Any]] = client.api.containers(all=not running_only, filters=filters)
    users: dict[str, list[str]] = {}
    for row in rows:
        summary = container_summary(row)
        for mount in row.get("Mounts") or []:
            if mount.get("Type") == "volume" and mount.get("Name"):
                users.setdefault(str(mount["Name"]), []).append(summary.name or summary.id[:12])
    return users


@translated
def remove(client: docker.DockerClient, name: str) -> bool:
    """Remove volume `name` (never forced); False when it was already gone."""
    try:
        client.api.remove_volume(name, force=False)
    except docker.errors.NotFound:
        return False
    return True
