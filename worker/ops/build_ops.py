"""Image builds on one host: from a folder, an uploaded tar, or a URL; the log as it comes.

A folder must lie under the policy's allowed host paths (a build reads every
file of its context into the engine). An uploaded context is read once from
Redis and deleted, whatever the outcome. Every built image carries the fleet's
ownership labels; tags beyond the first are added once the build succeeded.

Before the engine sees anything: builds must be allowed here (``allow_builds``, or an
engine whose root is not the host's, since ``RUN`` steps run as root), every tag and
every base of the Dockerfile must pass the image rules (`dockfleet.policy_images`).
"""

from __future__ import annotations

import io
import os
import posixpath
import tarfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dockfleet import labels as fleet_labels
from dockfleet.errors import BuildFailed, InvalidSpec, PolicyViolation
from dockfleet.models import BuildContext, BuildOptions, BuildResult
from dockfleet.policy import check_host_path
from dockfleet.policy_images import check_bases, check_produced_name
from dockfleet.store import build_uploads
from worker.engine import images as engine
from worker.runtime import Runtime

LineCallback = Callable[[str], None]
GZIP_MAGIC = b"\x1f\x8b"


def build(
    rt: Runtime,
    context: BuildContext,
    options: BuildOptions,
    on_line: LineCallback | None = None,
) -> BuildResult:
    """Build an image on this host and tag it with every tag of `options`.

    Raises:
        BuildFailed: a step failed; the error carries the log's last lines.
        InvalidSpec: the context is gone, too large, or not a folder.
        PolicyViolation: a path context outside the allowed host paths.
    """
    started = time.monotonic()
    labels = {**options.labels, **fleet_labels.ownership(rt.host)}
    lines = _LineSplitter(on_line)
    image_id = ""
    with _source(rt, context) as source:  # (an upload is deleted, refused or not)
        _check_policy(rt, options, _dockerfile(source, options.dockerfile))
        events = engine.build(
            rt.docker,
            **source,
            tag=options.tags[0] if options.tags else None,
            dockerfile=options.dockerfile,
            no_cache=options.no_cache,
            build_args=options.build_args,
            labels=labels,
            target=options.target,
            pull=options.pull,
            timeout=rt.settings.images.build_timeout,
        )
        try:
            for event in events:
                lines.feed(str(event.get("stream") or ""))
                if event.get("status"):  # a base image being pulled
                    lines.feed(f"{event['status']}\n")
                image_id = str((event.get("aux") or {}).get("ID") or image_id)
        finally:
            lines.flush()
    if not image_id:
        if not options.tags:
            raise BuildFailed("the engine reported no image id", lines.tail, rt.host)
        image_id = engine.inspect(rt.docker, options.tags[0], rt.host).id
    for extra in options.tags[1:]:
        engine.tag(rt.docker, image_id, extra)
    return BuildResult(
        id=image_id,
        host=rt.host,
        tags=list(options.tags),
        duration=round(time.monotonic() - started, 3),
        log_lines=lines.count,
    )


@contextmanager
def _source(rt: Runtime, context: BuildContext) -> Iterator[dict[str, Any]]:
    """The engine build's context arguments for `context`; an upload is deleted after."""
    if context.kind == "url":
        yield {"path": context.location}
        return
    if context.kind == "path":
        check_host_path(context.location, rt.settings.policy, resolve_symlinks=True)
        if not os.path.isdir(context.location):
            raise InvalidSpec(f"context: {context.location} is not a folder on host {rt.host!r}")
        yield {"path": context.location}
        return
    upload_id = context.location
    try:
        size = build_uploads.size(rt.redis, upload_id)
        limit = rt.settings.images.upload_max_bytes
        if size > limit:
            raise InvalidSpec(f"context: the upload has {size} bytes, over the {limit} allowed")
        blob = build_uploads.read(rt.redis_bytes, upload_id)
        if blob is None:
            raise InvalidSpec(
                f"context: upload {context.location} is gone (used already, or older than "
                f"images.upload_ttl={rt.settings.images.upload_ttl}s)"
            )
        yield {"fileobj": io.BytesIO(blob), "gzip": blob[:2] == GZIP_MAGIC}
    finally:
        build_uploads.discard(rt.redis, upload_id)


def _check_policy(rt: Runtime, options: BuildOptions, dockerfile: str | None) -> None:
    """Refuse the build before the engine sees it: the switch, the tags, the bases."""
    policy = rt.settings.policy
    if not (policy.allow_builds or rt.engine_facts.remaps_root):
        raise PolicyViolation(
            "builds",
            f"a build on host {rt.host!r}",
            "RUN steps run as root on an engine that does not remap users: set "
            "DOCKFLEET_POLICY__ALLOW_BUILDS=true, or enable userns-remap on the engine",
        )
    for name in options.tags:
        check_produced_name(name, policy, rt.settings.cleanup.image_pins)
    check_bases(dockerfile, options.build_args, policy)


def _dockerfile(source: dict[str, Any], name: str | None) -> str | None:
    """The Dockerfile's text from a folder or an uploaded tar; None for a remote context."""
    name = posixpath.normpath(name or "Dockerfile").lstrip("/")
    if name.startswith(".."):
        raise InvalidSpec(f"dockerfile: {name!r} is outside the build context")
    if "fileobj" in source:
        data = source["fileobj"]
        try:
            with tarfile.open(fileobj=data, mode="r:*") as archive:
                for member in archive:
                    if posixpath.normpath(member.name).lstrip("/") == name and member.isfile():
                        member_file = archive.extractfile(member)
                        content = member_file.read() if member_file is not None else b""
                        return content.decode("utf-8", "replace")
        except tarfile.TarError as exc:
            raise InvalidSpec(f"context: the upload is not a tar ({exc})") from None
        finally:
            data.seek(0)
        raise InvalidSpec(f"dockerfile: the context has no {name!r}")
    path = str(source["path"])
    if "://" in path or path.startswith("git@"):
        return None  # the engine fetches it: it cannot be read here
    root = os.path.realpath(path)
    target = os.path.realpath(os.path.join(root, name))
    if not target.startswith(root + os.sep):
        raise InvalidSpec(f"dockerfile: {name!r} leads outside the build context")
    try:
        return Path(target).read_text(encoding="utf-8", errors="replace")
    except OSError:
        raise InvalidSpec(f"dockerfile: the context has no {name!r}") from None


class _LineSplitter:
    """Cuts the engine's build output (chunks, not lines) into lines, keeping a tail."""

    TAIL = 20

    def __init__(self, on_line: LineCallback | None) -> None:
        self.on_line = on_line
        self.buffer = ""
        self.count = 0
        self.tail: list[str] = []

    def feed(self, text: str) -> None:
        self.buffer += text
        while "\n" in self.buffer:
            line, self.buffer = self.buffer.split("\n", 1)
            self._emit(line)

    def flush(self) -> None:
        if self.buffer:
            self._emit(self.buffer)
            self.buffer = ""

    def _emit(self, line: str) -> None:
        line = line.rstrip("\r")
        self.count += 1
        self.tail = [*self.tail[-(self.TAIL - 1) :], line]
        if self.on_line is not None:
            self.on_line(line)
