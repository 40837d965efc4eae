"""The producer's policy against every spelling of issue 14's classes 1, 2, 5 and 9:
refused by `check_container` (which makes no Docker call at all), naming the rule."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockfleet.errors import PolicyViolation
from dockfleet.models import ContainerConfig
from dockfleet.policy import check_container
from dockfleet.policy_limits import MIN_CPUS, nano_cpus, tmpfs_size, with_policy_limits
from dockfleet.policy_model import SecurityPolicy
from dockfleet.security_opts import normalise
from tests.support.policy_spellings import (
    LIMIT_BYPASSES,
    NNP_FALSE,
    NNP_TRUE,
    NON_ROOT_USERS,
    ODD_SIZES,
    PROFILE_NAMES,
    REFUSED_SECURITY_OPTS,
    ROOT_USERS,
    engine_path_spellings,
    keyed,
    reads_as_nnp_true,
    spec,
)

MIB = 1024**2


def refusal(policy: SecurityPolicy | None = None, **fields: Any) -> PolicyViolation:
    config = ContainerConfig.model_validate(spec(**fields))
    with pytest.raises(PolicyViolation) as caught:
        check_container(config, policy or SecurityPolicy())
    return caught.value


def accepted(policy: SecurityPolicy | None = None, **fields: Any) -> ContainerConfig:
    config = ContainerConfig.model_validate(spec(**fields))
    check_container(config, policy or SecurityPolicy())
    return config


# -- class 1: uid 0 ------------------------------------------------------------


@given(ROOT_USERS)
def test_every_spelling_of_uid_0_is_refused_as_root(user: str) -> None:
    error = refusal(user=user)
    assert (error.rule, error.value) == ("root-user", user)
    assert "DOCKFLEET_POLICY__ALLOW_ROOT" in str(error)
    accepted(SecurityPolicy(allow_root=True), user=user)


@given(ROOT_USERS)
def test_a_policy_default_user_that_is_uid_0_is_refused(user: str) -> None:
    assert refusal(SecurityPolicy(default_user=user)).rule == "root-user"


@given(NON_ROOT_USERS)
def test_numeric_users_other_than_0_are_accepted(user: str) -> None:
    accepted(user=user)


# -- class 2: security options -------------------------------------------------


@given(REFUSED_SECURITY_OPTS, st.lists(NNP_TRUE, max_size=2))
def test_every_option_but_no_new_privileges_is_refused_by_default(
    option: str, others: list[str]
) -> None:
    error = refusal(security_opt=[*others, option])
    assert error.rule == "security-opt"
    assert error.value == (option if len(option) <= 80 else option[:77] + "...")
    hint = str(error)
    # it says why: no-new-privileges stays on, the setting that allows it, or unreadable
    reasons = ("no setting lifts it", "DOCKFLEET_POLICY__ALLOWED_SECURITY_OPTS", "cannot read it")
    assert any(reason in hint for reason in reasons), hint


@given(st.lists(NNP_TRUE, min_size=1, max_size=3))
def test_no_new_privileges_in_any_true_spelling_is_accepted(options: list[str]) -> None:
    accepted(security_opt=options)


@given(st.text(max_size=30))
def test_the_allow_list_is_what_the_engine_reads_not_the_text(option: str) -> None:
    # Any text at all: accepted exactly when the engine reads it as no-new-privileges=true
    config = ContainerConfig.model_validate(spec(security_opt=[option]))
    try:
        check_container(config, SecurityPolicy())
    except PolicyViolation:
        assert not reads_as_nnp_true(option)
    else:
        assert reads_as_nnp_true(option)


@given(keyed("apparmor", PROFILE_NAMES), keyed("apparmor", PROFILE_NAMES))
def test_a_listed_option_is_allowed_in_any_spelling_and_only_it(listed: str, other: str) -> None:
    policy = SecurityPolicy(allowed_security_opts=[listed])
    accepted(policy, security_opt=[listed.replace("=", ":", 1)])
    accepted(policy, security_opt=[listed.replace(":", "=", 1)])
    if normalise(other) != normalise(listed):
        assert refusal(policy, security_opt=[other]).rule == "security-opt"


@given(REFUSED_SECURITY_OPTS)
def test_allow_privileged_allows_any_option_but_lifting_no_new_privileges(option: str) -> None:
    policy = SecurityPolicy(allow_privileged=True)
    if is_nnp_false(option):
        assert "no setting lifts it" in str(refusal(policy, security_opt=[option]))
    else:
        accepted(policy, security_opt=[option])


@given(NNP_FALSE)
def test_no_setting_lets_a_spec_lift_no_new_privileges(option: str) -> None:
    policy = SecurityPolicy(allow_privileged=True, allowed_security_opts=[option])
    assert refusal(policy, security_opt=[option]).rule == "security-opt"


def is_nnp_false(option: str) -> bool:
    return normalise_or_none(option) == "no-new-privileges=false"


def normalise_or_none(option: str) -> str | None:
    try:
        return normalise(option)
    except ValueError:
        return None


# -- class 5: limits -----------------------------------------------------------


@given(LIMIT_BYPASSES)
def test_limits_the_engine_would_not_apply_or_above_the_maxima_are_refused(
    fields: dict[str, Any],
) -> None:
    error = refusal(**fields)
    assert error.rule in {"min-cpus", "tmpfs-size", "max-tmpfs-size", "max-shm-size", "ulimit",
                          "max-ulimits"}  # fmt: skip


@given(st.floats(min_value=1e-12, max_value=0.02))
def test_a_cpu_limit_is_refused_exactly_when_the_engine_would_apply_none(cpus: float) -> None:
    config = ContainerConfig(image="busybox", cpu_limit=cpus)
    try:
        check_container(config, SecurityPolicy())
    except PolicyViolation as exc:
        assert exc.rule == "min-cpus" and nano_cpus(cpus) < 10_000_000
    else:
        assert nano_cpus(cpus) >= 10_000_000


@given(ODD_SIZES)
def test_tmpfs_sizes_the_kernel_reads_otherwise_are_refused(size: str) -> None:
    with pytest.raises(ValueError):
        tmpfs_size(f"rw,size={size}")


@given(st.integers(1, 1024), st.sampled_from(["", "k", "m", "g", "K", "M", "G"]))
def test_plain_tmpfs_sizes_read_as_the_kernel_reads_them(number: int, unit: str) -> None:
    factor = {"": 1, "k": 1024, "m": MIB, "g": 1024 * MIB}[unit.lower()]
    assert tmpfs_size(f"size=1m,noexec,size={number}{unit}") == number * factor


@given(
    memory=st.one_of(st.none(), st.integers(6 * MIB, 512 * MIB)),
    cpus=st.one_of(st.none(), st.floats(MIN_CPUS, 2)),
    shm=st.one_of(st.none(), st.integers(1, 64 * MIB)),
    tmpfs=st.dictionaries(
        st.sampled_from(["/tmp", "/run", "/cache"]),
        st.sampled_from(["", "rw", "size=1m", "noexec,size=512m", "mode=1777"]),
        max_size=3,
    ),
    host_cpus=st.integers(1, 64),
)
def test_the_policy_maxima_become_the_limits_a_spec_does_not_set(
    memory: int | None, cpus: float | None, shm: int | None, tmpfs: dict[str, str], host_cpus: int
) -> None:
    policy = SecurityPolicy(max_memory="512m", max_cpus=2, max_tmpfs_size="512m")
    config = accepted(policy, memory_limit=memory, cpu_limit=cpus, shm_size=shm, tmpfs=tmpfs)
    applied = with_policy_limits(config, policy, host_cpus=host_cpus)
    assert applied.memory_limit == (memory or 512 * MIB)
    assert applied.cpu_limit == (cpus or min(2, host_cpus))
    assert applied.shm_size == (shm or 64 * MIB)
    assert applied.tmpfs.keys() == tmpfs.keys()
    for path, options in applied.tmpfs.items():
        assert tmpfs_size(options) == (tmpfs_size(tmpfs[path]) or 512 * MIB)
    check_container(applied, policy)  # what is applied passes the policy itself


def test_policy_sizes_take_the_clis_forms() -> None:
    policy = SecurityPolicy.model_validate(
        {"max_memory": "2g", "max_shm_size": "128m", "max_tmpfs_size": "1.5g"}
    )
    assert (policy.max_memory, policy.max_shm_size) == (2048 * MIB, 128 * MIB)
    assert policy.max_tmpfs_size == 1536 * MIB


# -- class 9: the engine's own paths ---------------------------------------------


@given(engine_path_spellings())
def test_the_engines_sockets_and_data_are_never_mountable_even_when_all_is_allowed(
    path: str,
) -> None:
    error = refusal(SecurityPolicy(allowed_host_paths=["/"]), volumes={path: "/mnt"})
    assert error.rule in {"docker-socket", "engine-path"}
    assert error.value == path


@given(st.lists(st.sampled_from(["a", "b", ".", "", ".."]), min_size=1, max_size=6))
def test_a_host_path_with_dot_dot_is_refused_whatever_it_leads_to(parts: list[str]) -> None:
    path = "/srv/ci/" + "/".join(parts)
    policy = SecurityPolicy(allowed_host_paths=["/srv/ci"])
    config = ContainerConfig.model_validate(spec(volumes={path: "/mnt"}))
    if ".." in parts:
        with pytest.raises(PolicyViolation):
            check_container(config, policy)
    else:
        check_container(config, policy)
