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

A named volume can be a bind too (the local driver's ``o=bind``): its folder is judged
the same way (`named_volume_binds`).

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
from worker.engine import volumes
from worker.runtime import Runtime


def check_binds(rt: Runtime, config: ContainerConfig, image: ImageInfo | None) -> None:
    """Refuse a bind source that is not, on the engine's host, what its text says.

    Raises:
        PolicyViolation: the source exposes the engine's data root, or passes through a
            symlink below its allowed prefix.
        ImageNotFound: `image` is None (the helper needs one; the create would fail too).
    """
    policy = rt.settings.policy
    sources = [source for source in config.volumes if source.startswith("/")]
    for source in sources:
        check_host_path(source, policy, reserved=[rt.engine_facts.data_root])
    sources += named_volume_binds(rt, config)
    if not sources:
        return
    if image is None:
        raise ImageNotFound(config.reference, rt.host)
    by_prefix: dict[str, list[str]] = {}
    for source in sources:
        by_prefix.setdefault(_prefix_of(source, policy.allowed_host_paths), []).append(source)
    for prefix, under in by_prefix.items():
        _walk(rt, image.id, prefix, under)


def named_volume_binds(rt: Runtime, config: ContainerConfig) -> list[str]:
    """The host folders that the named volumes of `config` bind, each judged as a bind source.

    A volume is what its driver mounts: the local driver's ``o=bind`` with a ``device``
    is a bind mount of that folder (``docker volume create --opt type=none --opt o=bind
    --opt device=/etc``), and a ``type`` with a ``device`` mounts a file system (a block
    device, NFS). So the allow-list is on what the engine will mount: a plain local volume
    (no options, as the engine makes one that does not exist yet, and as caches are), a
    tmpfs, or a bind of a folder the host-path rules allow. Anything else (another driver,
    a device, a network file system) is refused, naming the volume.
    """
    binds = []
    for name in (source for source in config.volumes if not source.startswith("/")):
        found = volumes.inspect_if_present(rt.docker, name)
        if found is None or (not found.options and found.driver == "local"):
            continue
        if found.driver != "local":
            raise PolicyViolation(
                "named-volume",
                name,
                f"its driver is {found.driver!r}: only the local driver's volumes are "
                "mountable (a plugin mounts what it likes)",
            )
        options = found.options
        kind, device = options.get("type", ""), options.get("device", "")
        if kind == "tmpfs" and device in ("", "tmpfs"):
            continue
        if "bind" in options.get("o", "").replace("rbind", "bind").split(",") and device:
            try:
                check_host_path(device, rt.settings.policy, reserved=[rt.engine_facts.data_root])
            except PolicyViolation as exc:
                where = f"volume {name} (a bind of {device})"
                raise PolicyViolation(exc.rule, where, exc.hint) from None
            binds.append(device)
            continue
        raise PolicyViolation(
            "named-volume",
            name,
            f"it mounts {kind or 'a device'} {device!r}: only plain volumes, tmpfs and binds "
            "of allowed host paths are mountable",
        )
    return binds


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
