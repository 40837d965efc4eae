"""ContainerConfig and the query models: what they accept, and how they refuse."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from dockfleet.errors import InvalidSpec
from dockfleet.models import ContainerConfig, ContainerFilter, LogOptions
from dockfleet.validation import parse

FULL_SPEC: dict[str, Any] = {
    "name": "ci-build_1",
    "image": "registry.example.com:5000/team/app",
    "tag": "1.2.3",
    "cmd": ["sh", "-c", "make test"],
    "env": ["A=1", "EMPTY=", "URL=http://x?a=b"],
    "cpu_limit": 1.5,
    "memory_limit": "512m",
    "volumes": {"/srv/ci/work": "/work", "cache": "/cache:ro"},
    "ports": {"127.0.0.1:8080": "80/tcp", "9000": "53/udp", "": "443"},
    "labels": {"team": "ci"},
    "health_check": {"test": "curl -f localhost", "interval": "5s", "timeout": "1m30s"},
    "tmpfs": {"/tmp": "size=64m"},
    "ulimits": [{"name": "nofile", "soft": 1024, "hard": 2048}],
    "restart_policy": {"name": "on-failure", "max_retry": 3},
    "secret_env": {"TOKEN": "s3cr3t-value"},
}


def config(**overrides: Any) -> ContainerConfig:
    return ContainerConfig.model_validate({"image": "busybox", **overrides})


def error_locs(**overrides: Any) -> list[tuple[str | int, ...]]:
    with pytest.raises(ValidationError) as caught:
        config(**overrides)
    return [tuple(e["loc"]) for e in caught.value.errors()]


def test_full_valid_spec_is_accepted_with_normalised_values() -> None:
    cfg = ContainerConfig.model_validate(FULL_SPEC)

    assert cfg.reference == "registry.example.com:5000/team/app:1.2.3"
    assert cfg.cmd == ["sh", "-c", "make test"]
    assert cfg.memory_limit == 512 * 1024**2
    assert cfg.ports == {"127.0.0.1:8080": "80/tcp", "9000": "53/udp", "": "443"}
    assert cfg.health_check is not None
    assert cfg.health_check.test == ["CMD-SHELL", "curl -f localhost"]
    assert cfg.health_check.interval == 5.0
    assert cfg.health_check.timeout == 90.0
    assert cfg.ulimits[0].soft == 1024 and cfg.ulimits[0].hard == 2048
    assert cfg.restart_policy.name == "on-failure" and cfg.restart_policy.max_retry == 3
    assert cfg.secret_values_by_key() == [("TOKEN", "s3cr3t-value")]


def test_cmd_as_string_is_split_like_a_shell() -> None:
    assert config(cmd='sh -c "echo hello world"').cmd == ["sh", "-c", "echo hello world"]


def test_health_check_list_without_form_gets_cmd_prefix() -> None:
    assert config(health_check={"test": ["true"]}).health_check.test == ["CMD", "true"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("given", "expected"),
    [(1024, 1024), ("512m", 536870912), ("1g", 1073741824), ("1.5GiB", 1610612736), ("2k", 2048)],
)
def test_memory_limit_accepts_docker_units(given: object, expected: int) -> None:
    assert config(memory_limit=given).memory_limit == expected


REJECTIONS = pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"memory_limit": -1}, "memory_limit", id="negative-memory"),
        pytest.param({"memory_limit": 0}, "memory_limit", id="zero-memory"),
        pytest.param({"memory_limit": "0m"}, "memory_limit", id="zero-memory-string"),
        pytest.param({"memory_limit": "lots"}, "memory_limit", id="bad-memory-word"),
        pytest.param({"memory_limit": "512x"}, "memory_limit", id="bad-memory-unit"),
        pytest.param({"cpu_limit": 0}, "cpu_limit", id="zero-cpu"),
        pytest.param({"cpu_limit": -0.5}, "cpu_limit", id="negative-cpu"),
        pytest.param({"ports": {"70000": "80"}}, "ports", id="host-port-70000"),
        pytest.param({"ports": {"abc": "80"}}, "ports", id="host-port-abc"),
        pytest.param({"ports": {"8080": "0"}}, "ports", id="container-port-0"),
        pytest.param(
            {"volumes": {"/data": "relative/target"}}, "volumes", id="relative-volume-target"
        ),
        pytest.param({"volumes": {"/data": "/target:rx"}}, "volumes", id="bad-volume-mode"),
        pytest.param(
            {"volumes": {"./relative": "/target"}}, "volumes", id="relative-volume-source"
        ),
        pytest.param(
            {"restart_policy": {"name": "sometimes"}}, "restart_policy", id="unknown-restart-policy"
        ),
        pytest.param({"env": ["NO_EQUALS_SIGN"]}, "env", id="env-without-equals"),
        pytest.param({"env": ["=value"]}, "env", id="env-empty-key"),
        pytest.param(
            {"labels": {"dockfleet.managed": "true"}}, "labels", id="reserved-label-prefix"
        ),
        pytest.param({"surprise": 1}, "surprise", id="unknown-extra-field"),
        pytest.param({"image": "busybox:1.36", "tag": "1.36"}, "tag", id="tag-given-twice"),
        pytest.param(
            {"ulimits": [{"name": "nofile", "soft": 10, "hard": 5}]},
            "ulimits",
            id="ulimit-soft-above-hard",
        ),
        pytest.param({"name": "-leading-dash"}, "name", id="name-leading-dash"),
        pytest.param({"name": "has space"}, "name", id="name-with-space"),
        pytest.param({"working_dir": "relative"}, "working_dir", id="relative-working-dir"),
    ],
)


@REJECTIONS
def test_rejection_error_loc_names_the_field(overrides: dict[str, Any], field: str) -> None:
    # given a spec with one bad field; when validated; then the pydantic loc points at it
    assert any(loc[:1] == (field,) for loc in error_locs(**overrides))


@REJECTIONS
def test_invalid_spec_message_names_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidSpec) as caught:
        parse(ContainerConfig, {"image": "busybox", **overrides})
    assert field in str(caught.value)


def test_invalid_spec_message_leaves_out_the_input_value() -> None:
    with pytest.raises(InvalidSpec) as caught:
        parse(ContainerConfig, {"image": "busybox", "secret_env": {"K": 12345678}})
    assert "secret_env.K" in str(caught.value)
    assert "12345678" not in str(caught.value)


def test_parse_returns_an_existing_model_unchanged() -> None:
    cfg = config()
    assert parse(ContainerConfig, cfg) is cfg


def test_ulimit_with_unlimited_hard_accepts_any_soft() -> None:
    assert config(ulimits=[{"name": "core", "soft": 99, "hard": -1}]).ulimits[0].soft == 99


def test_capabilities_are_normalised_to_bare_upper_case() -> None:
    assert config(cap_add=["cap_chown", "kill"]).cap_add == ["CHOWN", "KILL"]


def test_leading_slash_of_container_name_is_dropped() -> None:
    assert config(name="/web").name == "web"


def test_secret_values_never_appear_in_the_default_json_dump() -> None:
    cfg = ContainerConfig.model_validate(FULL_SPEC)

    dumped = cfg.model_dump(mode="json")

    assert dumped["secret_env"] == {"TOKEN": "***"}
    assert "s3cr3t-value" not in repr(dumped)
    assert "s3cr3t-value" not in cfg.model_dump_json()


def test_secret_values_never_appear_in_repr_or_str() -> None:
    cfg = ContainerConfig.model_validate(FULL_SPEC)
    assert "s3cr3t-value" not in repr(cfg)
    assert "s3cr3t-value" not in str(cfg)


def test_secret_values_are_revealed_only_on_request() -> None:
    cfg = ContainerConfig.model_validate(FULL_SPEC)
    dumped = cfg.model_dump(mode="json", context={"reveal_secrets": True})
    assert dumped["secret_env"] == {"TOKEN": "s3cr3t-value"}


def test_container_config_json_round_trip_with_revealed_secrets_is_lossless() -> None:
    cfg = ContainerConfig.model_validate(FULL_SPEC)
    dumped = cfg.model_dump(mode="json", context={"reveal_secrets": True})
    assert ContainerConfig.model_validate(dumped) == cfg


def test_container_config_json_round_trip_without_secrets_is_lossless() -> None:
    spec = {k: v for k, v in FULL_SPEC.items() if k != "secret_env"}
    cfg = ContainerConfig.model_validate(spec)
    assert ContainerConfig.model_validate(cfg.model_dump(mode="json")) == cfg


def test_container_filter_accepts_docker_cli_label_list() -> None:
    flt = ContainerFilter(labels=["team=ci", "dockfleet.managed", "url=a=b"])  # type: ignore[arg-type]
    assert flt.labels == {"team": "ci", "dockfleet.managed": None, "url": "a=b"}


def test_container_filter_refuses_empty_label_key() -> None:
    with pytest.raises(ValidationError) as caught:
        ContainerFilter(labels=["=v"])  # type: ignore[arg-type]
    assert caught.value.errors()[0]["loc"] == ("labels",)


def test_container_filter_json_round_trip_is_lossless() -> None:
    flt = ContainerFilter(status=["running", "exited"], labels={"a": "1", "b": None}, limit=5)
    assert ContainerFilter.model_validate(flt.model_dump(mode="json")) == flt


def test_log_options_json_round_trip_is_lossless() -> None:
    opts = LogOptions(
        show_stderr=False, follow=True, tail=10, since=datetime(2024, 5, 1, 12, tzinfo=UTC)
    )
    assert LogOptions.model_validate(opts.model_dump(mode="json")) == opts
