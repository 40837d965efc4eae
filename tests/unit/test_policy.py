"""The security policy applied to container specs (dockfleet.policy)."""

from __future__ import annotations

from typing import Any

import pytest

from dockfleet.errors import PolicyViolation
from dockfleet.models import ContainerConfig
from dockfleet.policy import check_container
from dockfleet.policy_model import SecurityPolicy

SOCKET_SPELLINGS = [
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run//docker.sock",
    "/var/run/../run/docker.sock",
    "/var/run/docker.sock/",
    "/srv/ci/../../var/run/docker.sock",
    "/var/run/",
    "/var/run",
    "/var",
    "/run",
    "/",
    "/home/me/docker.sock",
    # POSIX keeps a leading "//" in normpath, but Linux reads it as "/".
    "//var/run/docker.sock",
    "//var/run",
    "//run",
]


def violation(policy: SecurityPolicy | None = None, **spec: Any) -> PolicyViolation:
    config = ContainerConfig.model_validate({"image": "busybox", **spec})
    with pytest.raises(PolicyViolation) as caught:
        check_container(config, policy or SecurityPolicy())
    return caught.value


def accepted(policy: SecurityPolicy | None = None, **spec: Any) -> None:
    config = ContainerConfig.model_validate({"image": "busybox", **spec})
    check_container(config, policy or SecurityPolicy())


def test_default_policy_accepts_a_plain_container() -> None:
    accepted(cmd=["true"], memory_limit="64m", cpu_limit=1)


def test_default_policy_refuses_any_bind_mount_and_names_the_setting() -> None:
    error = violation(volumes={"/srv/ci/work": "/work"})
    assert error.rule == "host-path"
    assert error.value == "/srv/ci/work"
    assert "DOCKFLEET_POLICY__ALLOWED_HOST_PATHS" in str(error)


def test_named_volumes_are_not_bind_mounts() -> None:
    accepted(volumes={"cache": "/cache"})


@pytest.mark.parametrize("source", SOCKET_SPELLINGS)
def test_docker_socket_is_refused_under_any_spelling_even_when_root_is_allowed(
    source: str,
) -> None:
    # given a policy that allows every host path
    policy = SecurityPolicy(allowed_host_paths=["/"])
    # when the socket (or a folder holding it) is mounted; then the socket rule refuses it
    assert violation(policy, volumes={source: "/mnt"}).rule == "docker-socket"


def test_allowed_prefix_accepts_paths_below_it() -> None:
    policy = SecurityPolicy(allowed_host_paths=["/srv/ci"])
    accepted(policy, volumes={"/srv/ci/x": "/x", "/srv/ci": "/ci"})


@pytest.mark.parametrize("source", ["/srv/cix", "/srv/ci-other/x", "/srv", "/srv/ci/../etc"])
def test_allowed_prefix_stops_at_the_path_boundary(source: str) -> None:
    policy = SecurityPolicy(allowed_host_paths=["/srv/ci/"])
    assert violation(policy, volumes={source: "/x"}).rule == "host-path"


@pytest.mark.parametrize("user", ["root", "0", "0:0", "root:root", "root:1000"])
def test_root_user_is_refused_by_default(user: str) -> None:
    error = violation(user=user)
    assert error.rule == "root-user"
    assert error.value == user


@pytest.mark.parametrize("user", ["root", "0:0"])
def test_root_user_is_accepted_when_allowed(user: str) -> None:
    accepted(SecurityPolicy(allow_root=True), user=user)


def test_root_default_user_in_policy_is_refused() -> None:
    assert violation(SecurityPolicy(default_user="0:0")).rule == "root-user"


@pytest.mark.parametrize("user", ["1000", "1000:0", "app", "65534:65534"])
def test_non_root_users_are_accepted(user: str) -> None:
    accepted(user=user)


def test_privileged_is_refused_unless_allowed() -> None:
    assert violation(privileged=True).rule == "privileged"
    accepted(SecurityPolicy(allow_privileged=True), privileged=True)


def test_capability_outside_the_allow_list_is_refused() -> None:
    error = violation(cap_add=["CHOWN", "SYS_ADMIN"])
    assert error.rule == "cap-add"
    assert error.value == "SYS_ADMIN"


@pytest.mark.parametrize("cap", ["CHOWN", "chown", "CAP_CHOWN", "NET_BIND_SERVICE"])
def test_capability_in_the_allow_list_is_accepted(cap: str) -> None:
    accepted(cap_add=[cap])


def test_host_network_is_refused_unless_allowed() -> None:
    assert violation(network="host").rule == "host-network"
    accepted(SecurityPolicy(allow_host_network=True), network="host")
    accepted(network="ci-net")


def test_memory_above_the_policy_maximum_is_refused() -> None:
    policy = SecurityPolicy(max_memory=512 * 1024**2)
    assert violation(policy, memory_limit="513m").rule == "max-memory"
    accepted(policy, memory_limit="512m")


def test_cpus_above_the_policy_maximum_are_refused() -> None:
    policy = SecurityPolicy(max_cpus=2)
    assert violation(policy, cpu_limit=2.5).rule == "max-cpus"
    accepted(policy, cpu_limit=2)


def test_pids_limit_above_the_policy_maximum_is_refused() -> None:
    policy = SecurityPolicy(max_pids_limit=1000)
    error = violation(policy, pids_limit=1001)
    assert error.rule == "max-pids"
    assert error.value == "pids_limit=1001"
    accepted(policy, pids_limit=1000)


def test_default_pids_limit_above_the_maximum_is_refused() -> None:
    assert violation(SecurityPolicy(default_pids_limit=5000)).rule == "max-pids"


@pytest.mark.parametrize(
    ("image", "tag"),
    [("busybox", None), ("busybox", "1.36"), ("busybox:1.36", None), ("busybox:latest", None)],
)
def test_allowed_image_pattern_accepts_matching_images(image: str, tag: str | None) -> None:
    accepted(SecurityPolicy(allowed_images=["busybox:*"]), image=image, tag=tag)


@pytest.mark.parametrize("image", ["alpine", "alpine:3", "evil/busybox", "busyboxx"])
def test_allowed_image_pattern_refuses_other_images(image: str) -> None:
    error = violation(SecurityPolicy(allowed_images=["busybox:*"]), image=image)
    assert error.rule == "allowed-images"


def test_image_without_tag_is_checked_as_latest() -> None:
    policy = SecurityPolicy(allowed_images=["busybox:1.*"])
    error = violation(policy, image="busybox")
    assert error.value == "busybox:latest"


@pytest.mark.parametrize(
    "opt",
    ["seccomp=unconfined", "seccomp:unconfined", "apparmor=unconfined", "no-new-privileges=false"],
)
def test_unsafe_security_options_are_refused(opt: str) -> None:
    error = violation(security_opt=[opt])
    assert error.rule == "security-opt"
    assert error.value == opt


def test_unsafe_security_options_are_accepted_when_privileged_is_allowed() -> None:
    accepted(SecurityPolicy(allow_privileged=True), security_opt=["seccomp=unconfined"])
