"""Secrets masked in real logs: a multi-line secret line by line, and a secret that the
engine's log driver cuts in two at 16 KiB, in a job's log and in a container's."""

from __future__ import annotations

import secrets

import pytest

from dockfleet import ContainerConfig, Fleet, JobSpec, LogOptions
from tests.conftest import TEST_IMAGE, Host
from worker.engine.logs import PARTIAL_BYTES

pytestmark = pytest.mark.engine
#: prints KEY (several lines) as is, then TOKEN straddling the engine's first 16-KiB cut
PRINT = (
    "printf '%s\\n' \"$KEY\"; "
    f"head -c {PARTIAL_BYTES - 5} /dev/zero | tr '\\0' a; printf '%s\\n' \"$TOKEN\"; "
    "echo done"
)


def secret_pair() -> tuple[str, str]:
    key = "\n".join(
        ["-----BEGIN TEST KEY-----", secrets.token_hex(24), secrets.token_hex(24), "==", "-----END"]
    )
    return key, "t0k-" + secrets.token_hex(8)


def check_masked(lines: list[str], key: str, token: str) -> None:
    text = "\n".join(lines)
    assert token not in text and key not in text
    assert not any(part in text for part in key.splitlines() if len(part) >= 6)
    # the long line came whole (the cut joined again), its secret end masked
    assert f"{'a' * (PARTIAL_BYTES - 5)}***" in lines
    assert "==" in lines  # a line of the key too short to mask on its own
    assert lines[-1] == "done"


def test_a_jobs_log_masks_a_multi_line_secret_and_one_cut_at_16_kib(
    fleet: Fleet, host_a: Host
) -> None:
    # Given a job that prints both its secrets
    key, token = secret_pair()
    spec = JobSpec(
        container=ContainerConfig(image=TEST_IMAGE, cmd=["sh", "-c", PRINT]),
        secret_env={"KEY": key, "TOKEN": token},
        host=host_a.name,
    )

    # When it has run
    handle = fleet.run_job(spec)
    assert handle.wait(timeout=60).status == "succeeded"

    # Then its log holds neither
    check_masked([ln.line for ln in handle.logs(follow=False)], key, token)


def test_a_containers_log_masks_them_too(fleet: Fleet, host_a: Host) -> None:
    # Given a container (not a job) with the secrets, run to its end
    key, token = secret_pair()
    config = ContainerConfig(
        image=TEST_IMAGE, cmd=["sh", "-c", PRINT], secret_env={"KEY": key, "TOKEN": token}
    )
    info = fleet.create_container(config, host=host_a.name)
    fleet.start_container(info.id, host=host_a.name)
    fleet.wait_container(info.id, timeout=30, host=host_a.name)

    # When its log is read through the fleet
    lines = [ln.line for ln in fleet.get_container_logs(info.id, LogOptions(), host=host_a.name)]

    # Then it holds neither secret
    check_masked(lines, key, token)
