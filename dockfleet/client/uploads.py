"""Build contexts uploaded by the client: a folder tarred here, parked in Redis for one build.

The upload has a size cap (``images.upload_max_bytes``) checked while the tar
is planned (`folder_tar`), and a TTL (``images.upload_ttl``) so that one no worker took does
not stay; the worker deletes it once read, and the client again when the
build is over. The tar honours the folder's ``.dockerignore`` as the docker CLI
reads it (`dockfleet.dockerignore`).
"""

from __future__ import annotations

import os

from dockfleet import dockerignore
from dockfleet.client import folder_tar
from dockfleet.client.folder_tar import Cap
from dockfleet.client.transport import Transport
from dockfleet.errors import InvalidSpec
from dockfleet.store import build_uploads


def upload(transport: Transport, data: bytes) -> str:
    """Store `data` (a tar, maybe gzipped) for one build; returns its upload id."""
    limits = transport.settings.images
    if len(data) > limits.upload_max_bytes:
        raise _too_large(len(data), limits.upload_max_bytes)
    return build_uploads.park(transport.redis, data, limits.upload_ttl)


def discard(transport: Transport, upload_id: str) -> None:
    build_uploads.discard(transport.redis, upload_id)


def tar_folder(folder: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The folder as an uncompressed tar, minus what its ``.dockerignore`` excludes (the
    Dockerfile and the .dockerignore itself are always sent, as the docker CLI does)."""
    cap = Cap(max_bytes, "context", "DOCKFLEET_IMAGES__UPLOAD_MAX_BYTES")
    tar = folder_tar.plan(folder, cap, keep=("Dockerfile", dockerignore.FILE_NAME))
    return b"".join(folder_tar.chunks(tar, build_uploads.CHUNK_BYTES))


def _too_large(size: int, limit: int) -> InvalidSpec:
    return InvalidSpec(
        f"context: the build context is over {limit} bytes ({size} bytes); exclude files with "
        ".dockerignore, raise DOCKFLEET_IMAGES__UPLOAD_MAX_BYTES, or build from a path "
        "on the worker"
    )
