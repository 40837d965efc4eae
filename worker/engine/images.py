"""Image adapter: one engine call per function, models and plain data out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import docker


def exists(client: docker.DockerClient, reference: str) -> bool:
    """Whether the engine already holds `reference` (no registry call)."""
    try:
        client.api.inspect_image(reference)  # type: ignore[no-untyped-call]
    except docker.errors.ImageNotFound:
        return False
    return True


def split_reference(reference: str) -> tuple[str, str]:
    """("registry:5000/repo", "tag") from a reference; the tag defaults to latest."""
    if "@" in reference:
        repository, _, digest = reference.partition("@")
        return repository, digest
    head, _, last = reference.rpartition("/")
    if ":" in last:
        name, _, tag = last.partition(":")
        return (f"{head}/{name}" if head else name), tag
    return reference, "latest"


def pull(
    client: docker.DockerClient, reference: str, auth: dict[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """Pull `reference`, yielding the engine's progress events as they come.

    Raises the engine's error (translated by the caller) when the pull fails,
    including the errors the engine reports inside the progress stream.
    """
    repository, tag = split_reference(reference)
    events = client.api.pull(repository, tag=tag, stream=True, decode=True, auth_config=auth)
    for event in events:
        if "error" in event:
            detail = event.get("errorDetail") or {}
            raise docker.errors.APIError(str(detail.get("message") or event["error"]))
        yield event
