"""Container adapter: one engine call per function, models in and out.

Every function raises dockfleet errors only (`translated`), but for `inspect_raw`
and `list_summaries`: they hand out the engine's JSON and its docker-py errors to
the job runner until it reads `inspect_state` and `summaries` instead.
"""

from __future__ import annotations

import base64
import io
import json
import posixpath
import secrets
import tarfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import docker

from dockfleet import labels as fleet_labels
from dockfleet.errors import ContainerNotFound, OperationTimeout
from dockfleet.models import ContainerFilter, ContainerInfo
from worker.engine.convert import container_info, summary_info
from worker.engine.errors import host_of, translated
from worker.engine.objects import (
    ContainerState,
    ContainerSummary,
    container_state,
    container_summary,
)

#: symlinks followed when reading a file out of an image (the kernel's own limit is 40)
SYMLINK_HOPS = 40
#: Go's os.ModeSymlink bit, in the mode of the engine's path stat
GO_MODE_SYMLINK = 1 << 27


@translated
def create(client: docker.DockerClient, arguments: dict[str, Any]) -> str:
    """Create a container from `convert.create_arguments`; returns its id."""
    host_config = arguments.pop("host_config")
    response = client.api.create_container(**arguments, host_config=host_config)
    return str(response["Id"])


@translated
def inspect(client: docker.DockerClient, ref: str, host: str) -> ContainerInfo:
    """The container's summary; `ContainerNotFound` if it is gone (callers branch on it)."""
    try:
        doc = inspect_raw(client, ref)
    except docker.errors.NotFound:
        raise ContainerNotFound(ref, host) from None
    return container_info(doc, host)


@translated
def inspect_state(client: docker.DockerClient, ref: str) -> ContainerState:
    """The container's state and what the fleet reads of its setup.

    Raises:
        ContainerNotFound: it is gone (named by `ref`).
    """
    return container_state(_inspect_found(client, ref))


@translated
def working_dir(client: docker.DockerClient, ref: str) -> str:
    """The folder the container's process starts in (its image's, or ``/``).

    Raises:
        ContainerNotFound: it is gone (named by `ref`).
    """
    config = _inspect_found(client, ref).get("Config") or {}
    return str(config.get("WorkingDir") or "/")


def _inspect_found(client: docker.DockerClient, ref: str) -> dict[str, Any]:
    try:
        return inspect_raw(client, ref)
    except docker.errors.NotFound:
        raise ContainerNotFound(ref, host_of(client)) from None


def inspect_raw(client: docker.DockerClient, ref: str) -> dict[str, Any]:
    """The engine's inspect document, docker-py's errors untranslated (`inspect_state`)."""
    doc: dict[str, Any] = client.api.inspect_container(ref)
    return doc


@translated
def start(client: docker.DockerClient, ref: str) -> None:
    client.api.start(ref)


@translated
def stop(client: docker.DockerClient, ref: str, timeout: int) -> None:
    # docker-py's HTTP timeout must outlast the grace period the engine waits.
    client.api.stop(ref, timeout=timeout)


@translated
def restart(client: docker.DockerClient, ref: str, timeout: int) -> None:
    client.api.restart(ref, timeout=timeout)


@translated
def kill(client: docker.DockerClient, ref: str, signal: str) -> None:
    client.api.kill(ref, signal=signal)


@translated
def remove(client: docker.DockerClient, ref: str, *, force: bool, volumes: bool) -> bool:
    """Remove a container; False when it was already gone (removal is idempotent)."""
    try:
        client.api.remove_container(ref, force=force, v=volumes)
    except docker.errors.NotFound:
        return False
    except docker.errors.APIError as exc:
        if exc.status_code == 409 and "already in progress" in str(exc.explanation):
            return True  # someone else is removing it: the outcome is the same
        raise
    return True


@translated
def wait(
    client: docker.DockerClient, ref: str, host: str, timeout: float | None
) -> tuple[str, int, str | None]:
    """Block until the container exits: (its id, its exit code, the engine's error if any)."""
    container_id = inspect_raw(client, ref)["Id"]
    try:
        status = client.api.wait(container_id, timeout=timeout)  # type: ignore[arg-type]
    except docker.errors.NotFound:
        raise ContainerNotFound(ref, host) from None
    except Exception as exc:  # requests raises ReadTimeout / ConnectionError subclasses
        if "timed out" in str(exc).lower():
            raise OperationTimeout(f"container {ref} still running after {timeout}s") from None
        raise
    error_doc: Any = status.get("Error") or {}
    return container_id, int(status.get("StatusCode", -1)), error_doc.get("Message") or None


@translated
def wait_exit(client: docker.DockerClient, container_id: str) -> int:
    """Block until the container exits, however long that takes; returns its exit code."""
    status = client.api.wait(container_id, timeout=None)
    return int(status.get("StatusCode", -1))


@translated
def read_image_file(
    client: docker.DockerClient, image: str, path: str, *, host: str
) -> bytes | None:
    """The content of one file of `image` (None if it has none), without running it.

    Symlinks are followed inside the image, as the engine does when it reads the file.
    """
    with never_started(client, image, host=host) as helper:
        for _ in range(SYMLINK_HOPS):
            try:
                stream, _ = client.api.get_archive(helper, path)
            except docker.errors.NotFound:
                return None
            with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
                member = archive.next()
                if member is None:
                    return None
                if member.issym():
                    path = posixpath.join(posixpath.dirname(path), member.linkname)
                    continue
                handle = archive.extractfile(member)
                return handle.read() if handle is not None else None
        return None  # a symlink loop: the engine cannot read it either


@translated
def put_archive(
    client: docker.DockerClient, container: str, path: str, tar: Iterable[bytes]
) -> None:
    """Unpack a tar, streamed from `tar`'s chunks (never held whole), at `path` (a folder
    that exists) in `container`; the engine resolves `path` inside the container."""
    client.api.put_archive(container, path, tar)


@translated
def get_archive(
    client: docker.DockerClient, container: str, path: str, chunk_size: int = 1024 * 1024
) -> Iterator[bytes] | None:
    """The tar of `path` in `container` (running or stopped) as the engine streams it, in
    chunks of about `chunk_size`, its members named from `path`'s last part; None when
    nothing is at `path`. The engine resolves `path` inside the container and keeps a
    final symlink as a link."""
    try:
        stream: Iterable[bytes]
        stream, _ = client.api.get_archive(container, path, chunk_size=chunk_size)
    except docker.errors.NotFound as exc:
        if "No such container" in str(exc):
            raise
        return None
    return iter(stream)  # read by the caller: an engine error past here is docker-py's


@contextmanager
def never_started(
    client: docker.DockerClient,
    image: str,
    *,
    host: str,
    mounts: list[dict[str, Any]] | None = None,
) -> Iterator[str]:
    """The id of a container of `image`, to read through the archive API; removed after.

    The archive API works on a container that was never started. This one cannot be
    started at all (it asks for a device of a random name, which no host has: the engine
    fails the start), so whoever can start containers cannot run the image with
    `mounts`; it would run as nobody, without capabilities or network anyway. It carries
    the fleet's labels, so that cleanup reaps it should this process die in between.
    """
    device = f"/dev/dockfleet-never-started-{secrets.token_hex(8)}"
    helper = create(
        client,
        {
            "image": image,
            "command": ["/dockfleet-never-started"],
            "user": "65534:65534",
            "labels": fleet_labels.ownership(host),
            "network_disabled": True,
            "host_config": {
                "Devices": [
                    {"PathOnHost": device, "PathInContainer": device, "CgroupPermissions": "r"}
                ],
                "CapDrop": ["ALL"],
                "SecurityOpt": ["no-new-privileges:true"],
                "Mounts": mounts or None,
            },
        },
    )
    try:
        yield helper
    finally:
        remove(client, helper, force=True, volumes=False)


@translated
def is_symlink(client: docker.DockerClient, container: str, path: str) -> bool | None:
    """Whether `path` in `container` is a symlink (None: there is nothing there), from the
    engine's lstat of it, without a download."""
    api: Any = client.api  # docker-py has no stat call: its own URL and error helpers
    response = api.head(api._url("/containers/{0}/archive", container), params={"path": path})
    if response.status_code == 404:
        return None
    api._raise_for_status(response)
    # Keys: name, size, mode (Go's FileMode bits), mtime, linkTarget.
    stat = json.loads(base64.b64decode(response.headers["X-Docker-Container-Path-Stat"]))
    return bool(int(stat.get("mode", 0)) & GO_MODE_SYMLINK)


def list_summaries(
    client: docker.DockerClient, filters: dict[str, Any], *, every: bool = True
) -> list[dict[str, Any]]:
    """Raw ``GET /containers/json`` rows, docker-py's errors untranslated (`summaries`)."""
    rows: list[dict[str, Any]] = client.api.containers(all=every, filters=filters)
    return rows


@translated
def summaries(
    client: docker.DockerClient, filters: dict[str, Any], *, every: bool = True
) -> list[ContainerSummary]:
    """The containers an engine-side filter selects (`every`: stopped ones too)."""
    return [container_summary(row) for row in list_summaries(client, filters, every=every)]


@translated
def list_containers(
    client: docker.DockerClient, host: str, filters: dict[str, Any]
) -> list[ContainerInfo]:
    """Every container (stopped ones too) an engine-side filter selects, as listed."""
    return [summary_info(row, host) for row in list_summaries(client, filters)]


def engine_filters(query: ContainerFilter, managed_label: str | None) -> dict[str, Any]:
    """The engine-side filter for a `ContainerFilter` (labels ANDed, statuses ORed)."""
    label_filters = [k if v is None else f"{k}={v}" for k, v in query.labels.items()]
    if managed_label:
        label_filters.append(managed_label)
    filters: dict[str, Any] = {}
    if label_filters:
        filters["label"] = label_filters
    if query.status:
        filters["status"] = list(query.status)
    if query.name:
        filters["name"] = query.name
    return filters
