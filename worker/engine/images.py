"""Image adapter: one engine call per function, models and plain data out.

Pull, push and build answer with a stream of progress events; the engine
reports failures inside that stream, so these raise docker-py's own errors for
them (`APIError`, `BuildError`), which `translated_events` maps as they come.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

import docker

from dockfleet import labels as fleet_labels
from dockfleet.errors import ImageNotFound
from dockfleet.models import ImageInfo
from worker.engine.errors import translated, translated_events
from worker.engine.objects import engine_time


def exists(client: docker.DockerClient, reference: str) -> bool:
    """Whether the engine already holds `reference` (no registry call)."""
    return inspect_if_present(client, reference, "") is not None


@translated
def inspect_if_present(client: docker.DockerClient, reference: str, host: str) -> ImageInfo | None:
    """The image `reference` names on this engine, None if it holds none."""
    try:
        return inspect(client, reference, host)
    except ImageNotFound:
        return None


@translated
def import_tar(
    client: docker.DockerClient, data: bytes, reference: str, changes: list[str]
) -> None:
    """Make an image of a root file system tar (``docker import``), tagged `reference`."""
    repository, tag = split_reference(reference)
    client.api.import_image_from_data(data, repository=repository, tag=tag, changes=changes)


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


@translated_events
def pull(
    client: docker.DockerClient,
    reference: str,
    auth: dict[str, str] | None = None,
    *,
    platform: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Pull `reference`, yielding the engine's progress events as they come.

    Raises the engine's error (translated by the caller) when the pull fails,
    including the errors the engine reports inside the progress stream.
    """
    repository, tag = split_reference(reference)
    events = client.api.pull(
        repository, tag=tag, stream=True, decode=True, auth_config=auth, platform=platform
    )
    yield from _raising(events)


@translated_events
def push(
    client: docker.DockerClient, reference: str, auth: dict[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """Push `reference` to its registry, yielding progress events; errors raise."""
    repository, tag = split_reference(reference)
    events = client.api.push(repository, tag=tag, stream=True, decode=True, auth_config=auth)
    yield from _raising(events)


def _raising(events: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for event in events:
        if "error" in event:
            detail = event.get("errorDetail") or {}
            raise docker.errors.APIError(str(detail.get("message") or event["error"]))
        yield event


@translated_events
def build(
    client: docker.DockerClient,
    *,
    path: str | None = None,
    fileobj: IO[bytes] | None = None,
    gzip: bool = False,
    tag: str | None = None,
    dockerfile: str = "Dockerfile",
    no_cache: bool = False,
    build_args: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    target: str | None = None,
    pull: bool = False,
    timeout: float | None = None,
) -> Iterator[dict[str, Any]]:
    """Build an image from a folder or URL (`path`) or a tar (`fileobj`); yields log events.

    A failed step raises docker-py's `BuildError` carrying every event so far.
    """
    events = client.api.build(
        path=path,
        fileobj=fileobj,
        custom_context=fileobj is not None,
        encoding="gzip" if gzip else None,
        tag=tag,
        dockerfile=dockerfile,
        nocache=no_cache,
        buildargs=build_args or None,
        labels=labels or None,
        target=target,
        pull=pull,
        rm=True,
        forcerm=True,  # no intermediate container is left behind, even by a failed step
        decode=True,
        timeout=int(timeout) if timeout else None,
    )
    seen: list[dict[str, Any]] = []
    for event in events:
        seen.append(event)
        if "error" in event:
            detail = event.get("errorDetail") or {}
            reason = str(detail.get("message") or event["error"]).strip()
            raise docker.errors.BuildError(reason, seen)  # type: ignore[arg-type]  # any iterable
        yield event


@translated
def tag(client: docker.DockerClient, source: str, target: str) -> None:
    repository, tag_name = split_reference(target)
    client.api.tag(source, repository, tag_name)


@translated
def remove(
    client: docker.DockerClient, reference: str, *, force: bool, no_prune: bool
) -> tuple[list[str], list[str]] | None:
    """Remove an image: (untagged, deleted), or None when it was already gone."""
    try:
        rows: Any = client.api.remove_image(reference, force=force, noprune=no_prune)
    except docker.errors.ImageNotFound:
        return None
    untagged = [r["Untagged"] for r in rows or [] if "Untagged" in r]
    deleted = [r["Deleted"] for r in rows or [] if "Deleted" in r]
    return untagged, deleted


@translated
def inspect(client: docker.DockerClient, reference: str, host: str) -> ImageInfo:
    doc: dict[str, Any] = client.api.inspect_image(reference)  # type: ignore[no-untyped-call]
    labels = (doc.get("Config") or {}).get("Labels") or {}
    return ImageInfo(
        id=doc["Id"],
        host=host,
        tags=doc.get("RepoTags") or [],
        digests=doc.get("RepoDigests") or [],
        size=int(doc.get("Size") or 0),
        created=engine_time(doc.get("Created")),
        labels=labels,
        managed=fleet_labels.is_managed(labels),
        user=(doc.get("Config") or {}).get("User") or "",
    )


@translated
def list_images(
    client: docker.DockerClient, host: str, filters: dict[str, Any], *, every: bool = False
) -> list[ImageInfo]:
    """``GET /images/json`` rows as `ImageInfo`, with an engine-side filter."""
    rows: list[dict[str, Any]] = client.api.images(all=every, filters=filters)
    infos = []
    for row in rows:
        labels = row.get("Labels") or {}
        tags = [t for t in row.get("RepoTags") or [] if t != "<none>:<none>"]
        digests = [d for d in row.get("RepoDigests") or [] if not d.startswith("<none>")]
        infos.append(
            ImageInfo(
                id=row["Id"],
                host=host,
                tags=tags,
                digests=digests,
                size=int(row.get("Size") or 0),
                created=datetime.fromtimestamp(row.get("Created", 0), tz=UTC),
                labels=labels,
                managed=fleet_labels.is_managed(labels),
            )
        )
    return infos
