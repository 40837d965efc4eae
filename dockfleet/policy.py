"""Applies the `SecurityPolicy` to a `ContainerConfig`.

The same checks run twice: on the producer (fast feedback, nothing enqueued)
and on the worker right before the Docker call (anyone with Redis access can
bypass a producer). Each refusal is a `PolicyViolation` naming the rule, the
offending value and the setting that would allow it.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
from collections.abc import Sequence

from dockfleet.errors import PolicyViolation
from dockfleet.models.container_spec import ContainerConfig
from dockfleet.policy_limits import check_limits
from dockfleet.policy_model import SecurityPolicy
from dockfleet.policy_scope import check_network_mode
from dockfleet.security_opts import (
    ALWAYS_ALLOWED,
    UnreadableOption,
    disables_no_new_privileges,
    normalise,
)

DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")
SOCKET_NAMES = ("docker.sock", "containerd.sock")
#: the engine's and runtime's sockets and state, and the host's kernel interfaces: never
#: mountable, nor any folder above them (the engine's own data root is added on the worker)
ENGINE_PATHS = (
    "/run/docker",
    "/var/run/docker",
    "/run/containerd",
    "/var/run/containerd",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/run/user",  # rootless engines' sockets ($XDG_RUNTIME_DIR/docker.sock)
    "/proc",
    "/sys",
    "/dev",
)
#: what Go's strconv.Atoi reads as a number: the engine's test for a numeric user
GO_INT = re.compile(r"[+-]?[0-9]+")


def check_container(config: ContainerConfig, policy: SecurityPolicy) -> None:
    """Raise `PolicyViolation` for the first rule `config` breaks.

    Bind sources are judged as written; the worker also has them resolved where the
    engine is (`worker.ops.host_paths`), since symlinks there are not visible here.
    """
    _check_image(config, policy)
    _check_user(config, policy)
    _check_privileges(config, policy)
    _check_resources(config, policy)
    _check_network(config, policy)
    check_network_mode(config, policy)
    for source in config.volumes:
        if source.startswith("/"):
            check_host_path(source, policy)


def effective_user(config: ContainerConfig, policy: SecurityPolicy) -> str:
    """The user the container runs as: the spec's, else the policy's non-root default."""
    return config.user or policy.default_user


def numeric_uid(name: str) -> int | None:
    """The uid that the user part `name` is as a number, read as the engine reads it
    (Go's Atoi: "00", "+0" and "-0" are all 0), else None (a name)."""
    return int(name) if GO_INT.fullmatch(name) else None


def is_root_user(user: str) -> bool:
    """Whether `user` runs as uid 0 by its spelling alone (names the worker resolves).

    An empty user part (":0", ":1000") is uid 0: the engine starts from uid 0 and then
    looks for a user; the spec's ``User`` replaces the image's, so the image's own
    USER does not apply.
    """
    name = user.partition(":")[0]
    return name in ("", "root") or numeric_uid(name) == 0


def check_host_path(
    source: str,
    policy: SecurityPolicy,
    *,
    resolve_symlinks: bool = False,
    reserved: Sequence[str] = (),
) -> None:
    """Refuse the engine's sockets and data (under any spelling), ``..``, and paths outside
    the allowed prefixes.

    Args:
        resolve_symlinks: also judge the path with this machine's symlinks resolved: for a
            path this process reads itself (a build context), not for a bind source.
        reserved: more paths never exposed (the engine's own data root, on the worker).
    """
    # normpath keeps a leading "//" (POSIX leaves it implementation-defined); Linux and
    # the engine read it as "/", so collapse it or "//var/run" would slip past.
    paths = {"/" + posixpath.normpath(source).lstrip("/")}
    if resolve_symlinks:
        paths.add(os.path.realpath(source))
    engine_paths = [*ENGINE_PATHS, *(posixpath.normpath(r) for r in reserved if r)]
    for path in paths:
        if _exposes(path, DOCKER_SOCKETS) or posixpath.basename(path).endswith(SOCKET_NAMES):
            raise PolicyViolation(
                "docker-socket", source, "the Docker socket is never mountable, by any path"
            )
        if _exposes(path, engine_paths):
            raise PolicyViolation(
                "engine-path",
                source,
                "the engine's sockets and data root, /proc, /sys and /dev are never "
                "mountable, nor a folder that holds them",
            )
    if ".." in source.split("/"):
        # The kernel reads "link/.." after following the link, not as the text says.
        raise PolicyViolation("host-path", source, "'..' in a host path: give the path itself")
    allowed = [posixpath.normpath(p) for p in policy.allowed_host_paths]
    for path in paths:
        if not any(_is_under(path, prefix) for prefix in allowed):
            raise PolicyViolation(
                "host-path",
                source,
                "bind mounts need a prefix in DOCKFLEET_POLICY__ALLOWED_HOST_PATHS "
                f"(now {policy.allowed_host_paths or 'empty'})",
            )


def _exposes(path: str, roots: Sequence[str]) -> bool:
    # A folder above one of `roots` exposes it as much as the root itself.
    return any(_is_under(path, root) or _is_under(root, path) for root in roots)


def _is_under(path: str, prefix: str) -> bool:
    return prefix == "/" or path == prefix or path.startswith(prefix.rstrip("/") + "/")


def _check_image(config: ContainerConfig, policy: SecurityPolicy) -> None:
    check_image_reference(config.reference, policy)


def check_image_reference(reference: str, policy: SecurityPolicy) -> None:
    """Refuse an image the policy's ``allowed_images`` patterns do not match (pulls too)."""
    if not policy.allowed_images:
        return
    if ":" not in reference.rsplit("/", 1)[-1] and "@" not in reference:
        reference += ":latest"
    if not any(fnmatch.fnmatchcase(reference, p) for p in policy.allowed_images):
        raise PolicyViolation(
            "allowed-images",
            reference,
            f"allowed patterns: {policy.allowed_images} (DOCKFLEET_POLICY__ALLOWED_IMAGES)",
        )


def _check_user(config: ContainerConfig, policy: SecurityPolicy) -> None:
    user = effective_user(config, policy)
    if is_root_user(user) and not policy.allow_root:
        raise PolicyViolation(
            "root-user", user, "set DOCKFLEET_POLICY__ALLOW_ROOT=true to allow root"
        )


def _check_privileges(config: ContainerConfig, policy: SecurityPolicy) -> None:
    if config.privileged and not policy.allow_privileged:
        raise PolicyViolation(
            "privileged", "privileged=true", "set DOCKFLEET_POLICY__ALLOW_PRIVILEGED=true"
        )
    allowed = {c.upper() for c in policy.allowed_capabilities}
    for cap in config.cap_add:
        if cap not in allowed:
            raise PolicyViolation(
                "cap-add",
                cap,
                f"allowed capabilities: {sorted(allowed)} (DOCKFLEET_POLICY__ALLOWED_CAPABILITIES)",
            )
    for opt in config.security_opt:
        _check_security_opt(opt, policy)


def _check_security_opt(opt: str, policy: SecurityPolicy) -> None:
    """Allow-list of `dockfleet.security_opts`, judged on the option as the engine reads it."""
    shown = _short(opt)
    if disables_no_new_privileges(opt):
        raise PolicyViolation(
            "security-opt", shown, "the fleet always sets no-new-privileges; no setting lifts it"
        )
    if policy.allow_privileged:
        return
    try:
        normal = normalise(opt)
    except UnreadableOption as exc:
        raise PolicyViolation("security-opt", shown, f"the engine cannot read it: {exc}") from None
    if normal not in ALWAYS_ALLOWED and normal not in policy.allowed_security_opts:
        raise PolicyViolation(
            "security-opt",
            shown,
            f"not on the allow-list (no-new-privileges); to allow it, add {_short(normal)!r} "
            "to DOCKFLEET_POLICY__ALLOWED_SECURITY_OPTS, or allow everything with "
            "DOCKFLEET_POLICY__ALLOW_PRIVILEGED=true",
        )


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."  # an inline seccomp profile is long


def _check_resources(config: ContainerConfig, policy: SecurityPolicy) -> None:
    check_limits(config, policy)


def _check_network(config: ContainerConfig, policy: SecurityPolicy) -> None:
    if config.network == "host" and not policy.allow_host_network:
        raise PolicyViolation(
            "host-network", "network=host", "set DOCKFLEET_POLICY__ALLOW_HOST_NETWORK=true"
        )
