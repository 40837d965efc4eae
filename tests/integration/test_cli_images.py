"""`dockfleet images|pull|push|build|rmi|tag` and `dockfleet network ...` against the real fleet."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import TEST_IMAGE, Host
from tests.integration.conftest import REGISTRY_USER
from tests.support.cli import DOCKFLEET, one_error_line
from tests.support.services import RegistryServer

Run = Callable[..., subprocess.CompletedProcess[str]]

pytestmark = pytest.mark.usefixtures("clean_engine")


@pytest.fixture
def cli(fleet: object, redis_url: str) -> Run:
    env = {**os.environ, "DOCKFLEET_REDIS_URL": redis_url, "DOCKFLEET_HEARTBEAT_INTERVAL": "1"}
    env.pop("DOCKFLEET_DEBUG", None)

    def run(
        *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [DOCKFLEET, *args], capture_output=True, text=True, env=env, timeout=120, input=stdin
        )
        if check:
            assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result

    return run


def test_cli_build_streams_the_log_and_images_tag_rmi_follow(
    cli: Run, host_a: Host, tmp_path: Path
) -> None:
    # Given a context folder with a build arg
    (tmp_path / "Dockerfile").write_text(
        f"FROM {TEST_IMAGE}\nARG WHO\nRUN echo building-for-$WHO\n"
    )
    name = f"dft-cli/app-{secrets.token_hex(3)}"
    # When it is built with two tags and --json
    built = cli("build", "--host", host_a.name, "-t", f"{name}:1", "-t", f"{name}:2",
                "--build-arg", "WHO=cli", "--json", str(tmp_path))  # fmt: skip
    # Then the log went to stderr line by line and the result to stdout as JSON
    assert "building-for-cli" in built.stderr.splitlines()
    result = json.loads(built.stdout)
    assert result["tags"] == [f"{name}:1", f"{name}:2"] and result["host"] == host_a.name

    # And images lists it, tag names it again, rmi removes the names
    listed = json.loads(cli("images", "--host", host_a.name, "--managed", "--json").stdout)
    assert any(f"{name}:1" in row["tags"] for row in listed)
    table = cli("images", "--host", host_a.name, "-f", f"reference={name}:*").stdout
    assert name in table and "1" in table and host_a.name in table
    cli("tag", "--host", host_a.name, f"{name}:1", f"{name}:3")
    removed = cli("rmi", "--host", host_a.name, f"{name}:1", f"{name}:2", f"{name}:3")
    assert f"Untagged: {name}:3" in removed.stdout and "Deleted:" in removed.stdout


def test_cli_failing_build_is_one_error_line_after_the_log(
    cli: Run, host_a: Host, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text(f"FROM {TEST_IMAGE}\nRUN echo doomed && exit 7\n")
    result = cli("build", "--host", host_a.name, str(tmp_path), check=False)
    assert "doomed" in result.stdout.splitlines()
    one_error_line(result, "build failed", "non-zero code: 7")


def test_cli_pull_with_a_wrong_password_is_one_clear_line_without_it(
    cli: Run, host_a: Host, registry: RegistryServer
) -> None:
    reference = f"{registry.address}/dft/cli-{secrets.token_hex(3)}:v1"
    cli("tag", "--host", host_a.name, TEST_IMAGE, reference)
    wrong = "wrong-" + secrets.token_hex(5)
    result = cli("push", "--host", host_a.name, "-u", REGISTRY_USER, "--password-stdin",
                 reference, stdin=wrong + "\n", check=False)  # fmt: skip
    line = one_error_line(result, "refused authentication", registry.address)
    assert wrong not in result.stdout + line
    pushed = cli("push", "--host", host_a.name, "-u", REGISTRY_USER, "--password-stdin",
                 "--json", reference, stdin=registry.password + "\n")  # fmt: skip
    assert json.loads(pushed.stdout)["digest"].startswith("sha256:")
    missing = reference.replace(":v1", ":nope")
    result = cli("pull", "--host", host_a.name, "-u", REGISTRY_USER, "--password-stdin",
                 missing, stdin=registry.password + "\n", check=False)  # fmt: skip
    one_error_line(result, "no such image", missing)


def test_cli_network_lifecycle_and_in_use_refusal(cli: Run, host_a: Host) -> None:
    name = f"dft-cli-{secrets.token_hex(3)}"
    created = json.loads(cli("network", "create", "--host", host_a.name, "--internal",
                             "--label", "team=ci", "--json", name).stdout)  # fmt: skip
    assert created["internal"] and created["labels"]["team"] == "ci"
    listed = json.loads(cli("network", "ls", "--host", host_a.name, "--json").stdout)
    assert [n["name"] for n in listed] == [name]
    # A container on it makes rm refuse, naming the container
    holder = f"holder-{secrets.token_hex(3)}"
    cli("create", "--host", host_a.name, "--name", holder, TEST_IMAGE, "--", "sleep", "300")
    cli("network", "connect", "--alias", "db", name, holder)
    cli("network", "connect", "--alias", "db", name, holder)  # again: already there is fine
    cli("start", holder)
    shown = json.loads(cli("network", "inspect", "--host", host_a.name, name).stdout)
    assert [c["name"] for c in shown[0]["containers"]] == [holder]
    one_error_line(cli("network", "rm", "--host", host_a.name, name, check=False), holder)
    cli("network", "disconnect", name, holder)
    assert cli("network", "rm", "--host", host_a.name, name).stdout.strip() == name
    refused = cli("network", "create", "--host", host_a.name, "-d", "overlay", name, check=False)
    one_error_line(refused, "overlay", "DOCKFLEET_POLICY__ALLOWED_NETWORK_DRIVERS")
