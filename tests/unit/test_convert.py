"""worker.engine.convert: specs to Engine API arguments, inspect documents to ContainerInfo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from dockfleet import labels as fleet_labels
from dockfleet.models import ContainerConfig
from dockfleet.policy_model import SecurityPolicy
from worker.engine.convert import container_info, create_arguments, engine_time

OWNERSHIP = {"dockfleet.managed": "true", "dockfleet.host": "ci-1"}


def arguments(**spec: Any) -> dict[str, Any]:
    config = ContainerConfig.model_validate({"image": "busybox", **spec})
    return create_arguments(
        config, SecurityPolicy(), dict(OWNERSHIP), user=config.user or "65534:65534"
    )


def test_security_defaults_are_always_applied() -> None:
    args = arguments()
    host = args["host_config"]

    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges:true"]
    assert host["PidsLimit"] == 512
    assert host["Privileged"] is False
    assert args["user"] == "65534:65534"
    assert args["image"] == "busybox"
    assert "Binds" not in host and "PortBindings" not in host and "Memory" not in host


def test_no_new_privileges_comes_last_since_the_engine_takes_the_last_one() -> None:
    opts = arguments(security_opt=["label=type:ci_t"])["host_config"]["SecurityOpt"]
    assert opts == ["label=type:ci_t", "no-new-privileges:true"]


def test_the_fleets_home_tmpfs_gets_the_policys_tmpfs_size() -> None:
    config = ContainerConfig(image="busybox")
    policy = SecurityPolicy(max_tmpfs_size="256m")
    args = create_arguments(config, policy, {}, user="65534:65534", home="/home/dockfleet")
    assert args["host_config"]["Tmpfs"] == {
        "/home/dockfleet": f"rw,exec,nosuid,nodev,uid=65534,gid=65534,mode=0700,size={256 << 20}"
    }


def test_spec_user_and_pids_limit_override_the_policy_defaults() -> None:
    args = arguments(user="1000:1000", pids_limit=64)
    assert args["user"] == "1000:1000"
    assert args["host_config"]["PidsLimit"] == 64


def test_cpu_limit_becomes_nano_cpus() -> None:
    assert arguments(cpu_limit=1.5)["host_config"]["NanoCpus"] == 1_500_000_000
    assert arguments(cpu_limit=0.25)["host_config"]["NanoCpus"] == 250_000_000
    # rounded, not cut: 0.29 * 1e9 is 289999999.99999997 in floating point
    assert arguments(cpu_limit=0.29)["host_config"]["NanoCpus"] == 290_000_000


def test_memory_limit_allows_no_extra_swap() -> None:
    host = arguments(memory_limit="512m")["host_config"]
    assert host["Memory"] == 536_870_912
    assert host["MemorySwap"] == 536_870_912


def test_volumes_become_binds_with_explicit_mode() -> None:
    host = arguments(volumes={"/srv/ci/w": "/w", "cache": "/c:ro"})["host_config"]
    assert host["Binds"] == ["/srv/ci/w:/w:rw", "cache:/c:ro"]


def test_ports_become_bindings_and_exposed_ports() -> None:
    args = arguments(ports={"127.0.0.1:8080": "80", "9000": "53/udp", "[::1]:8443": "443/tcp"})

    assert args["host_config"]["PortBindings"] == {
        "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
        "53/udp": [{"HostIp": "", "HostPort": "9000"}],
        "443/tcp": [{"HostIp": "::1", "HostPort": "8443"}],
    }
    assert args["ports"] == [80, (53, "udp"), 443]


def test_random_host_port_binds_with_empty_host_port() -> None:
    bindings = arguments(ports={"": "80"})["host_config"]["PortBindings"]
    assert bindings == {"80/tcp": [{"HostIp": "", "HostPort": ""}]}


def test_labels_are_merged_and_secret_keys_are_listed() -> None:
    args = arguments(labels={"team": "ci"}, secret_env={"TOKEN": "t0k", "API_KEY": "k3y"})
    assert args["labels"] == {
        "team": "ci",
        **OWNERSHIP,
        fleet_labels.SECRET_ENV: '["API_KEY", "TOKEN"]',
    }


def test_secret_values_reach_the_container_environment() -> None:
    # the worker side is the one place the clear values are needed
    args = arguments(env=["A=1"], secret_env={"TOKEN": "t0k"})
    assert args["environment"] == ["A=1", "TOKEN=t0k"]


def test_no_secret_label_without_secrets() -> None:
    assert fleet_labels.SECRET_ENV not in arguments(env=["A=1"])["labels"]


def test_health_check_durations_become_nanoseconds() -> None:
    check = arguments(health_check={"test": "curl -f localhost", "interval": "5s"})["healthcheck"]
    assert check["Test"] == ["CMD-SHELL", "curl -f localhost"]
    assert check["Interval"] == 5_000_000_000
    assert check["Timeout"] == 30_000_000_000
    assert check["Retries"] == 3


def test_restart_policy_no_is_the_engines_empty_name() -> None:
    assert arguments()["host_config"]["RestartPolicy"] == {"Name": "", "MaximumRetryCount": 0}
    policy = arguments(restart_policy={"name": "on-failure", "max_retry": 2})["host_config"]
    assert policy["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}


def test_ulimits_tmpfs_and_network_are_passed_through() -> None:
    host = arguments(
        ulimits=[{"name": "nofile", "soft": 1024, "hard": 2048}],
        tmpfs={"/tmp": "size=64m"},
        network="ci-net",
    )["host_config"]
    assert host["Ulimits"] == [{"Name": "nofile", "Soft": 1024, "Hard": 2048}]
    assert host["Tmpfs"] == {"/tmp": "size=64m"}
    assert host["NetworkMode"] == "ci-net"


def inspect_doc(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "Id": "f" * 64,
        "Name": "/web",
        "Image": "sha256:abc",
        "Created": "2024-05-01T12:00:00.123456789Z",
        "State": {
            "Status": "exited",
            "ExitCode": 3,
            "OOMKilled": False,
            "StartedAt": "2024-05-01T12:00:01.5Z",
            "FinishedAt": "2024-05-01T12:00:02Z",
        },
        "Config": {
            "Image": "busybox:1.36",
            "Cmd": ["sh", "-c", "exit 3"],
            "Entrypoint": None,
            "Env": ["A=1", "TOKEN=s3cr3t", "PATH=/bin"],
            "Labels": {**OWNERSHIP, fleet_labels.SECRET_ENV: "TOKEN"},
            "User": "65534:65534",
        },
        "HostConfig": {"NanoCpus": 1_000_000_000, "Memory": 1024, "CapDrop": ["ALL"]},
        "NetworkSettings": {
            "Ports": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}], "53/udp": None},
            "Networks": {"ci-net": {}, "bridge": {}},
        },
        "Mounts": [{"Type": "bind", "Source": "/srv", "Destination": "/w", "RW": False}],
    }
    doc.update(overrides)
    return doc


def test_container_info_masks_secret_env_values_named_by_the_label() -> None:
    info = container_info(inspect_doc(), "ci-1")
    assert info.env == ["A=1", "TOKEN=***", "PATH=/bin"]
    assert "s3cr3t" not in info.model_dump_json()


def test_container_info_reads_the_inspect_document() -> None:
    info = container_info(inspect_doc(), "ci-1")

    assert (info.name, info.host, info.image, info.status) == (
        "web",
        "ci-1",
        "busybox:1.36",
        "exited",
    )
    assert info.exit_code == 3
    assert info.managed is True
    assert info.command == ["sh", "-c", "exit 3"]
    assert info.networks == ["bridge", "ci-net"]
    assert [(p.container_port, p.host_ip, p.host_port) for p in info.ports] == [
        ("80/tcp", "127.0.0.1", "8080"),
        ("53/udp", "", ""),
    ]
    assert info.mounts[0].read_only is True
    assert info.started_at == datetime(2024, 5, 1, 12, 0, 1, 500000, tzinfo=UTC)


def test_running_container_has_no_exit_code() -> None:
    doc = inspect_doc(
        State={"Status": "running", "ExitCode": 0, "FinishedAt": "0001-01-01T00:00:00Z"}
    )
    info = container_info(doc, "ci-1")
    assert info.exit_code is None
    assert info.finished_at is None


@pytest.mark.parametrize("value", [None, "", "0001-01-01T00:00:00Z"])
def test_engine_time_reads_never_as_none(value: str | None) -> None:
    assert engine_time(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01T12:34:56.123456789Z", datetime(2024, 5, 1, 12, 34, 56, 123456, tzinfo=UTC)),
        ("2024-05-01T12:34:56.5Z", datetime(2024, 5, 1, 12, 34, 56, 500000, tzinfo=UTC)),
        ("2024-05-01T12:34:56Z", datetime(2024, 5, 1, 12, 34, 56, tzinfo=UTC)),
        (
            "2024-05-01T12:34:56.123456789+02:00",
            datetime(2024, 5, 1, 12, 34, 56, 123456, tzinfo=timezone(timedelta(hours=2))),
        ),
    ],
)
def test_engine_time_parses_nanosecond_timestamps(value: str, expected: datetime) -> None:
    parsed = engine_time(value)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == expected.utcoffset()
