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

from dockfleet.errors import PolicyViolation
from dockfleet.models.container_spec import ContainerConfig
from dockfleet.policy_model import SecurityPolicy
from dockfleet.policy_scope import check_network_mode

DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")
ROOT_USERS = ("root", "0")
#: security options that undo the defaults; only a privileged-allowed policy may set them
UNSAFE_SECURITY_OPTS = (
    "no-new-privileges=false",
    "no-new-privileges:false",
    "seccomp=unconfined",
    "seccomp:unconfined",
    "apparmor=unconfined",
    "apparmor:unconfined",
    "systempaths=unconfined",
    "systempaths:unconfined",
    "label=disable",
    "label:disable",
)


def check_container(
    config: ContainerConfig, policy: SecurityPolicy, *, resolve_symlinks: bool = False
) -> None:
    """Raise `PolicyViolation` for the first rule `config` breaks.

    Args:
        resolve_symlinks: also follow symlinks of bind sources; only meaningful
            where the Docker host's file system is visible (the worker).
    """
    _check_image(config, policy)
    _check_user(config, policy)
    _check_privileges(config, policy)
    _check_resources(config, policy)
    _check_network(config, policy)
    check_network_mode(config, policy)
    for source in config.volumes:
        if source.startswith("/"):
            check_host_path(source, policy, resolve_symlinks=resolve_symlinks)


def effective_user(config: ContainerConfig, policy: SecurityPolicy) -> str:
    """The user the container runs as: the spec's, else the policy's non-root default."""
    return config.user or policy.default_user


def effective_pids_limit(config: ContainerConfig, policy: SecurityPolicy) -> int:
    return config.pids_limit or policy.default_pids_limit


def is_root_user(user: str) -> bool:
    name = user.partition(":")[0]
    return name in ROOT_USERS


def check_host_path(source: str, policy: SecurityPolicy, *, resolve_symlinks: bool) -> None:
    """Refuse the Docker socket (under any spelling) and paths outside the allowed prefixes."""
    # normpath keeps a leading "//" (POSIX leaves it implementation-defined); Linux and
    # the engine read it as "/", so collapse it or "//var/run" would slip past.
    paths = {"/" + posixpath.normpath(source).lstrip("/")}
    if resolve_symlinks:
        paths.add(os.path.realpath(source))
    for path in paths:
        if _exposes_docker_socket(path):
            raise PolicyViolation(
                "docker-socket", source, "the Docker socket is never mountable, by any path"
            )
    allowed = [posixpath.normpath(p) for p in policy.allowed_host_paths]
    for path in paths:
        if not any(_is_under(path, prefix) for prefix in allowed):
            raise PolicyViolation(
                "host-path",
                source,
                "bind mounts need a prefix in DOCKFLEET_POLICY__ALLOWED_HOST_PATHS "
                f"(now {policy.allowed_host_paths or 'empty'})",
            )


def _exposes_docker_socket(path: str) -> bool:
    if posixpath.basename(path).endswith("docker.sock"):
        return True
    # A parent folder of the socket exposes it as much as the socket itself.
    return any(_is_under(sock, path) for sock in DOCKER_SOCKETS)


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
    if not policy.allow_privileged:
        for opt in config.security_opt:
            if opt.replace(" ", "").lower() in UNSAFE_SECURITY_OPTS:
                raise PolicyViolation(
                    "security-opt", opt, "it weakens the defaults; needs ALLOW_PRIVILEGED"
                )


def _check_resources(config: ContainerConfig, policy: SecurityPolicy) -> None:
    if policy.max_memory and config.memory_limit and config.memory_limit > policy.max_memory:
        raise PolicyViolation(
            "max-memory",
            f"memory_limit={config.memory_limit}",
            f"at most {policy.max_memory} bytes (DOCKFLEET_POLICY__MAX_MEMORY)",
        )
    if policy.max_cpus and config.cpu_limit and config.cpu_limit > policy.max_cpus:
        raise PolicyViolation(
            "max-cpus",
            f"cpu_limit={config.cpu_limit}",
            f"at most {policy.max_cpus} (DOCKFLEET_POLICY__MAX_CPUS)",
        )
    pids = effective_pids_limit(config, policy)
    if pids > policy.max_pids_limit:
        raise PolicyViolation(
            "max-pids",
            f"pids_limit={pids}",
            f"at most {policy.max_pids_limit} (DOCKFLEET_POLICY__MAX_PIDS_LIMIT)",
        )


def _check_network(config: ContainerConfig, policy: SecurityPolicy) -> None:
    if config.network == "host" and not policy.allow_host_network:
        raise PolicyViolation(
            "host-network", "network=host", "set DOCKFLEET_POLICY__ALLOW_HOST_NETWORK=true"
        )
