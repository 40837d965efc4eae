"""Bind-mount sources judged where the engine is, by the engine, never by this worker.

The kernel that mounts a bind source follows its symlinks on the engine's host. A
worker in a container (compose), or one that drives a ``tcp://`` engine, sees another
file system or none, so a symlink inside an allowed folder could lead anywhere there.
Telling whether this worker sees the engine's files would be a guess (a worker container
can share ``/var/lib/docker``, and with it the engine's id file, and still have another
``/srv``), so the worker's own file system is never asked. The engine is:

- a helper container, which is never started and cannot be (`engine.never_started`),
  gets the allowed prefix bind-mounted read-only, as the operator wrote it;
- the engine's archive API then ``lstat``s each component of the source below the
  prefix, in order; a symlink anywhere below the prefix is refused, and a component
  that does not exist ends the walk (the engine creates the rest as folders).

Symlinks are refused, not followed: the archive API resolves a symlink inside the
helper's own root, not the host's, so following one through it would judge another path
than the one the kernel mounts; and reading a link's text costs a ~0.5 s download, while
an ``lstat`` costs 10-30 ms. This costs one helper (create and remove, ~0.2 s) per
allowed prefix used, only for a spec with host bind mounts. ``..`` is refused before
(`dockfleet.policy.check_host_path`), as are the engine's sockets and data roots, here
with the engine's own ``DockerRootDir`` added.

Not covered: a path that changes between this check and the container's start (a job
that can write into the allowed folder swaps a folder for a symlink just then). Allow
folders that jobs mount read-only, or accept that race.
"""

from __future__ import annotations

import posixpath
import secrets

from dockfleet.errors import ImageNotFound, InvalidSpec, PolicyViolation
from dockfleet.models import ContainerConfig, ImageInfo
from dockfleet.policy import check_host_path
from worker.engine import containers as engine
from worker.runtime import Runtime


def check_binds(rt: Runtime, config: ContainerConfig, image: ImageInfo | None) -> None:
    """Refuse a bind source that is not, on the engine's host, what its text says.

    Raises:
        PolicyViolation: the source exposes the engine's data root, or passes through a
            symlink below its allowed prefix.
        ImageNotFound: `image` is None (the helper needs one; the create would fail too).
    """
    sources = [source for source in config.volumes if source.startswith("/")]
    if not sources:
        return
    policy = rt.settings.policy
    for source in sources:
        check_host_path(source, policy, reserved=[rt.engine_facts.data_root])
    if image is None:
        raise ImageNotFound(config.reference, rt.host)
    by_prefix: dict[str, list[str]] = {}
    for source in sources:
        by_prefix.setdefault(_prefix_of(source, policy.allowed_host_paths), []).append(source)
    for prefix, under in by_prefix.items():
        _walk(rt, image.id, prefix, under)


def _prefix_of(source: str, allowed: list[str]) -> str:
    """The longest allowed prefix that holds `source` (`check_host_path` made sure of one)."""
    path = posixpath.normpath(source)
    prefixes = [posixpath.normpath(p) for p in allowed]
    holding = [p for p in prefixes if p == "/" or path == p or path.startswith(p + "/")]
    return max(holding, key=len)


def _walk(rt: Runtime, image_id: str, prefix: str, sources: list[str]) -> None:
    """``lstat`` every component of each source below `prefix`, on the engine's host."""
    target = f"/dockfleet-host-path-{secrets.token_hex(6)}"
    mount = {"Type": "bind", "Source": prefix, "Target": target, "ReadOnly": True}
    try:
        with engine.never_started(rt.docker, image_id, host=rt.host, mounts=[mount]) as helper:
            for source in sources:
                _walk_one(rt, helper, prefix, target, source)
    except InvalidSpec as exc:  # the engine refused the helper's create (a 400)
        # The prefix is not on this host: nothing below it is a symlink (the engine
        # creates the source as folders, as it does for any missing bind source).
        if "does not exist" in str(exc):
            return
        raise


def _walk_one(rt: Runtime, helper: str, prefix: str, target: str, source: str) -> None:
    below = posixpath.normpath(source)[len(prefix) :]
    path, host_path = target, prefix.rstrip("/")
    for part in (p for p in below.split("/") if p not in ("", ".")):
        path, host_path = f"{path}/{part}", f"{host_path}/{part}"
        symlink = engine.is_symlink(rt.docker, helper, path)
        if symlink is None:
            return
        if symlink:
            raise PolicyViolation(
                "host-path",
                source,
                f"{host_path} is a symlink on host {rt.host!r}; a bind source may not pass "
                "through one below its allowed prefix: give the path it leads to",
            )
