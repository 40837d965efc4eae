"""A job file with two services run through the real CLI and a real worker, its secrets
from the environment."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from dockfleet import Fleet
from tests.conftest import Host
from tests.support.two_service_job import EXPECTED_OUTPUT, build_slow_db, job_file

DOCKFLEET = str(Path(sys.executable).with_name("dockfleet"))


@pytest.fixture(scope="module")
def slow_db_image(local_engine: docker.DockerClient) -> Iterator[str]:
    tag = build_slow_db(local_engine)
    yield tag
    local_engine.images.remove(tag, force=True)


def command_lines() -> list[bytes]:
    """The argv of every process on this machine (what `ps -eo args` shows)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            found.append(Path(f"/proc/{pid}/cmdline").read_bytes())
        except OSError:  # gone meanwhile
            continue
    return found


def test_a_job_file_gets_its_secrets_from_the_environment_never_from_argv(
    fleet: Fleet, host_a: Host, redis_url: str, tmp_path: Path, slow_db_image: str
) -> None:
    # Given a job file with two services (one without a HEALTHCHECK, that listens late),
    # and a secret only in the caller's environment
    token = "tok-" + secrets.token_hex(12)
    job = tmp_path / "job.yml"
    job.write_text(job_file(slow_db_image))
    env = {**os.environ, "DOCKFLEET_REDIS_URL": redis_url, "TOKEN": token}

    # When the pipeline step runs it, naming the secret but not its value
    step = subprocess.Popen(
        [DOCKFLEET, "run", "-f", str(job), "--secret-env", "TOKEN", "--host", host_a.name],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    # (and every process's argv is read again and again while the job runs)
    scans, seen = 0, []
    while step.poll() is None:
        seen += [argv for argv in command_lines() if token.encode() in argv]
        scans += 1
        time.sleep(0.02)
    out, err = step.communicate(timeout=60)

    # Then the job reached both services by alias once they were ready, the job and its
    # services got the value, shown masked, and no argv ever held it
    assert step.returncode == 0, err
    assert out.decode().splitlines() == EXPECTED_OUTPUT
    assert token not in out.decode() + err.decode()
    assert scans > 10 and seen == []
