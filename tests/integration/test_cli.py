"""The CLI against the real fleet: exit codes, --json, and one clear line for mistakes."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import TEST_IMAGE, Host
from tests.support.cli import DOCKFLEET, one_error_line


@pytest.fixture
def cli(fleet: object, redis_url: str):  # type: ignore[no-untyped-def]
    env = {**os.environ, "DOCKFLEET_REDIS_URL": redis_url, "DOCKFLEET_HEARTBEAT_INTERVAL": "1"}
    env.pop("DOCKFLEET_DEBUG", None)

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [DOCKFLEET, *args], capture_output=True, text=True, env=env, timeout=60
        )
        if check:
            assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result

    return run


def test_cli_container_lifecycle_with_json(cli, host_a: Host) -> None:  # type: ignore[no-untyped-def]
    name = f"cli-{host_a.name}"
    created = json.loads(
        cli(
            "create",
            "--host",
            host_a.name,
            "--name",
            name,
            "-e",
            "WHO=cli",
            "-m",
            "64m",
            "--cpus",
            "0.5",
            "--json",
            TEST_IMAGE,
            "--",
            "sh",
            "-c",
            "echo hi $WHO; echo oops >&2; sleep 300",
        ).stdout
    )
    assert created["name"] == name and created["host"] == host_a.name
    assert created["memory"] == 64 * 1024 * 1024 and created["nano_cpus"] == 500_000_000

    assert cli("start", name).stdout.strip() == name
    listed = json.loads(cli("ps", "--host", host_a.name, "--json").stdout)
    assert [(c["name"], c["status"]) for c in listed] == [(name, "running")]
    table = cli("ps").stdout
    assert "CONTAINER ID" in table and name in table and host_a.name in table

    logs = cli("logs", name)
    while "hi cli" not in logs.stdout:
        logs = cli("logs", name)
    assert logs.stdout == "hi cli\n"
    assert logs.stderr == "oops\n"
    json_lines = [json.loads(x) for x in cli("logs", "--json", name).stdout.splitlines()]
    assert {(x["stream"], x["line"]) for x in json_lines} == {
        ("stdout", "hi cli"),
        ("stderr", "oops"),
    }

    inspected = json.loads(cli("inspect", name).stdout)
    assert inspected[0]["cap_drop"] == ["ALL"] and inspected[0]["user"] == "65534:65534"
    stats = json.loads(cli("stats", "--json", name).stdout)
    assert stats[0]["memory_limit"] == 64 * 1024 * 1024

    assert cli("stop", "-t", "1", name).stdout.strip() == name
    exited = json.loads(cli("ps", "-a", "--host", host_a.name, "--json").stdout)
    assert [c["status"] for c in exited] == ["exited"]
    assert cli("rm", name).stdout.strip() == name
    assert json.loads(cli("ps", "-a", "--host", host_a.name, "--json").stdout) == []


def test_cli_hosts_and_info(cli, host_a: Host) -> None:  # type: ignore[no-untyped-def]
    hosts = {h["name"]: h for h in json.loads(cli("hosts", "--json").stdout)}
    assert hosts[host_a.name]["up"] is True
    info = json.loads(cli("info", "--host", host_a.name, "--json").stdout)
    assert info[0]["host"] == host_a.name and info[0]["max_containers"] == 20
    assert host_a.name in cli("hosts").stdout


def test_cli_mistakes_are_one_line_and_a_nonzero_exit(cli, host_a: Host) -> None:  # type: ignore[no-untyped-def]
    one_error_line(cli("rm", "no-such-container", check=False), "no such container")
    one_error_line(cli("start", "nope", check=False), "no such container")
    result = cli("create", "--host", host_a.name, "busybox:no-such-tag", check=False)
    one_error_line(result, "no such image")
    result = cli("create", "-v", "/etc:/x", TEST_IMAGE, check=False)
    one_error_line(result, "policy violation", "host-path")
    result = cli("create", "-m", "lots", TEST_IMAGE, check=False)
    one_error_line(result, "memory_limit")
    result = cli("create", "-p", "99999:80", TEST_IMAGE, check=False)
    one_error_line(result, "ports")
    result = cli("ps", "--filter", "colour=red", check=False)
    one_error_line(result, "--filter")
    bad_flag = cli("ps", "--no-such-flag", check=False)
    one_error_line(bad_flag, "--no-such-flag", "dockfleet ps --help")
    unreachable = cli("--redis-url", "redis://127.0.0.1:1/0", "ps", check=False)
    one_error_line(unreachable, "cannot reach the fleet's Redis", "--redis-url")
    # And each of these is a failure of dockfleet, not of a job: docker run's 125
    assert {bad_flag.returncode, unreachable.returncode, result.returncode} == {125}
