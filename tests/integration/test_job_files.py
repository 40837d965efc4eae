"""A job file run through the real CLI and a real worker, its secrets from the environment."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

from dockfleet import Fleet
from tests.conftest import TEST_IMAGE, Host

DOCKFLEET = str(Path(sys.executable).with_name("dockfleet"))
SERVE = (
    'mkdir -p /tmp/www && echo "pong $SVC_TOKEN" > /tmp/www/ping && touch /tmp/ready'
    " && exec httpd -f -p 8080 -h /tmp/www"
)
JOB = f"""\
container:
  image: {TEST_IMAGE}
  cmd: [sh, -c, 'echo "token=$TOKEN"; sleep 2; wget -q -O- http://web:8080/ping']
services:
  - alias: web
    readiness_timeout: 30s
    container:
      image: {TEST_IMAGE}
      cmd: [sh, -c, '{SERVE}']
      secret_env: {{SVC_TOKEN: {{from_env: TOKEN}}}}
      health_check: {{test: test -f /tmp/ready, interval: 0.2s, retries: 100}}
timeout: 60s
labels: {{suite: job-files}}
"""


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
    fleet: Fleet, host_a: Host, redis_url: str, tmp_path: Path
) -> None:
    # Given a job file with a service, a secret only in the caller's environment
    token = "tok-" + secrets.token_hex(12)
    job = tmp_path / "job.yml"
    job.write_text(JOB)
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

    # Then the job and its service got the value, shown masked, and no argv ever held it
    assert step.returncode == 0, err
    assert out.decode().splitlines() == ["token=***", "pong ***"]
    assert token not in out.decode() + err.decode()
    assert scans > 10 and seen == []
