"""Build contexts uploaded by the client: a folder tarred here, parked in Redis for one build.

The upload has a size cap (``images.upload_max_bytes``) checked while the tar
is made, and a TTL (``images.upload_ttl``) so that one no worker took does
not stay; the worker deletes it once read, and the client again when the
build is over. The tar honours the folder's ``.dockerignore`` (patterns with
``*``, ``?``, ``**`` and ``!`` exceptions, as the docker CLI reads them).
"""

from __future__ import annotations

import fnmatch
import io
import os
import re
import tarfile
from pathlib import Path

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
    """The folder as an uncompressed tar, minus what its ``.dockerignore`` excludes."""
    root = Path(folder)
    if not root.is_dir():
        raise InvalidSpec(f"context: {root} is not a folder")
    ignore = _read_dockerignore(root)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root).as_posix()
            if _ignored(relative, ignore) and relative not in ("Dockerfile", ".dockerignore"):
                continue
            archive.add(path, arcname=relative, recursive=False)
            if buffer.tell() > max_bytes:
                raise _too_large(buffer.tell(), max_bytes, folder=str(root))
    return buffer.getvalue()


def _too_large(size: int, limit: int, folder: str = "") -> InvalidSpec:
    what = f"the build context {folder}" if folder else "the build context"
    return InvalidSpec(
        f"context: {what} is over {limit} bytes ({size} so far); exclude files with "
        ".dockerignore, raise DOCKFLEET_IMAGES__UPLOAD_MAX_BYTES, or build from a path "
        "on the worker"
    )


def _read_dockerignore(root: Path) -> list[tuple[bool, re.Pattern[str]]]:
    path = root / ".dockerignore"
    if not path.is_file():
        return []
    rules = []
    for raw in path.read_text(errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        rules.append((negate, re.compile(_translate(pattern))))
    return rules


def _translate(pattern: str) -> str:
    """A .dockerignore pattern as a regex over slash paths; ``**`` spans folders."""
    parts = [fnmatch.translate(p).removesuffix(r"\Z") for p in pattern.split("**")]
    return "^" + ".*".join(parts) + "(/.*)?$"


def _ignored(relative: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    excluded = False
    for negate, regex in rules:
        if regex.match(relative):
            excluded = not negate  # the last matching rule wins, as in docker
    return excluded
