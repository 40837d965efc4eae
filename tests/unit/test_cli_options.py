"""dockfleet.cli.spec_options: docker-run style options to a ContainerConfig."""

from __future__ import annotations

from typing import Any

import click
import pytest
from click.testing import CliRunner

from dockfleet.cli.spec_options import config_from_options, container_options
from dockfleet.errors import InvalidSpec
from dockfleet.models import ContainerConfig


def from_command_line(*argv: str) -> ContainerConfig:
    """Parse argv with the real options, as `dockfleet run` does."""
    built: list[ContainerConfig] = []

    @click.command()
    @container_options
    @click.argument("image")
    @click.argument("command", nargs=-1)
    def run(image: str, command: tuple[str, ...], **opts: Any) -> None:
        built.append(config_from_options(image, command, **opts))

    result = CliRunner().invoke(run, list(argv), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return built[0]


def test_publish_with_ip_host_and_container_port() -> None:
    cfg = from_command_line("-p", "127.0.0.1:8080:80", "busybox")
    assert cfg.ports == {"127.0.0.1:8080": "80"}


def test_publish_with_host_port_and_protocol() -> None:
    assert from_command_line("-p", "5353:53/udp", "busybox").ports == {"5353": "53/udp"}


def test_publish_container_port_alone_gets_a_random_host_port() -> None:
    assert from_command_line("-p", "80", "busybox").ports == {"": "80"}


def test_volume_with_read_only_mode() -> None:
    assert from_command_line("-v", "/a:/b:ro", "busybox").volumes == {"/a": "/b:ro"}


def test_leading_double_dash_before_the_command_is_dropped() -> None:
    cfg = from_command_line("busybox", "--", "sh", "-c", "echo hi")
    assert cfg.cmd == ["sh", "-c", "echo hi"]


def test_double_dash_is_dropped_when_called_directly() -> None:
    cfg = config_from_options("busybox", ("--", "echo", "--", "x"))
    assert cfg.cmd == ["echo", "--", "x"]


def test_no_command_leaves_the_image_default() -> None:
    assert from_command_line("busybox").cmd is None


def test_common_options_reach_the_config() -> None:
    cfg = from_command_line(
        *("--name", "job1", "-e", "A=1", "-l", "team=ci", "-l", "flag", "-m", "256m"),
        *("--cpus", "0.5", "-u", "1000", "-w", "/src", "--read-only", "--network", "ci"),
        *("--entrypoint", "/bin/sh", "--tmpfs", "/tmp:size=1m", "--restart", "on-failure:3"),
        *("--secret-env", "TOKEN=abc", "--cap-add", "chown", "--pids-limit", "64", "--init"),
        "busybox:1.36",
    )

    assert cfg.name == "job1"
    assert cfg.reference == "busybox:1.36"
    assert cfg.env == ["A=1"]
    assert cfg.labels == {"team": "ci", "flag": ""}
    assert cfg.memory_limit == 268_435_456
    assert cfg.cpu_limit == 0.5
    assert (cfg.user, cfg.working_dir, cfg.network) == ("1000", "/src", "ci")
    assert cfg.read_only is True and cfg.init is True
    assert cfg.entrypoint == ["/bin/sh"]
    assert cfg.tmpfs == {"/tmp": "size=1m"}
    assert cfg.restart_policy.name == "on-failure" and cfg.restart_policy.max_retry == 3
    assert cfg.secret_values_by_key() == [("TOKEN", "abc")]
    assert cfg.cap_add == ["CHOWN"]
    assert cfg.pids_limit == 64


def test_bad_env_raises_invalid_spec_naming_env() -> None:
    with pytest.raises(InvalidSpec) as caught:
        config_from_options("busybox", (), env=("NO_EQUALS",))
    assert "env" in str(caught.value)


@pytest.mark.parametrize(
    ("opts", "flag"),
    [
        ({"secret_env": ("=v",)}, "--secret-env"),
        ({"label": ("=v",)}, "--label"),
        ({"volume": ("/only-source",)}, "--volume"),
        ({"volume": (":/b",)}, "--volume"),
    ],
)
def test_malformed_pairs_raise_invalid_spec_naming_the_flag(
    opts: dict[str, Any], flag: str
) -> None:
    with pytest.raises(InvalidSpec) as caught:
        config_from_options("busybox", (), **opts)
    assert flag in str(caught.value)


def test_bad_memory_raises_invalid_spec_naming_memory_limit() -> None:
    with pytest.raises(InvalidSpec) as caught:
        config_from_options("busybox", (), memory="lots")
    assert "memory_limit" in str(caught.value)
