"""`dockfleet run -f` through the real command in a subprocess: dry runs and bad files.

The Redis URL points at a closed port: a dry run that tried to send anything would fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

DOCKFLEET = str(Path(sys.executable).with_name("dockfleet"))
SECRET = "pg-Secret-7d41e0"
JOB = """\
container:
  image: busybox:local
  cmd: [sh, -c, 'echo $PGPASSWORD']
  secret_env: {PGPASSWORD: {from_env: PGPASSWORD}}
services:
  - alias: db
    container:
      image: busybox:local
      secret_env: {POSTGRES_PASSWORD: {from_env: PGPASSWORD}}
timeout: 2m
"""


def dockfleet(*args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    """Run the CLI; a variable given as None is unset for it."""
    environ = {**os.environ, "DOCKFLEET_REDIS_URL": "redis://127.0.0.1:1/0"}
    environ.pop("DOCKFLEET_DEBUG", None)
    for name, value in env.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return subprocess.run(
        [DOCKFLEET, *args], capture_output=True, text=True, env=environ, timeout=60
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    # A failure of dockfleet, not of a job: docker run's 125
    assert result.returncode == 125 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_dry_run_prints_the_masked_spec_and_sends_nothing(tmp_path: Path) -> None:
    # Given a job file whose secrets come from the caller's environment
    job = tmp_path / "job.yml"
    job.write_text(JOB)

    # When it is dry-run with a flag on top, against a Redis that is not there
    result = dockfleet("run", "--dry-run", "-f", str(job), "-m", "64m", PGPASSWORD=SECRET)

    # Then the resolved spec is printed, secrets masked, and nothing needed Redis
    assert (result.returncode, result.stderr) == (0, "")
    shown = json.loads(result.stdout)
    assert shown["container"]["secret_env"] == {"PGPASSWORD": "***"}
    assert shown["services"][0]["container"]["secret_env"] == {"POSTGRES_PASSWORD": "***"}
    assert shown["container"]["memory_limit"] == 64 * 1024**2 and shown["timeout"] == 120.0
    assert SECRET not in result.stdout


def test_a_bad_job_file_is_one_line_naming_the_field(tmp_path: Path) -> None:
    job = tmp_path / "job.yml"
    job.write_text(
        JOB.replace("      secret_env: {POSTGRES", "      cpus: 1\n      secret_env: {POSTGRES")
    )
    line = one_line(dockfleet("run", "-f", str(job), PGPASSWORD=SECRET))
    assert f"{job}: services.0.container.cpus: Extra inputs are not permitted" in line


def test_a_job_file_whose_variable_is_unset_is_one_line_naming_it(tmp_path: Path) -> None:
    job = tmp_path / "job.yml"
    job.write_text(JOB)
    result = dockfleet("run", "--dry-run", "-f", str(job), PGPASSWORD=None)
    line = one_line(result)
    assert line.endswith(
        f"{job}: container.secret_env.PGPASSWORD: environment variable PGPASSWORD is not set"
    )


def test_a_bare_secret_env_flag_takes_the_value_from_the_environment_not_argv() -> None:
    result = dockfleet("run", "--dry-run", "--secret-env", "TOKEN", "busybox:local", TOKEN=SECRET)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["secret_env"] == {"TOKEN": "***"}
    assert SECRET not in result.stdout


def test_a_job_files_caches_take_the_flags_on_top_by_key(tmp_path: Path) -> None:
    # Given a job file with two caches, one short and one long
    job = tmp_path / "job.yml"
    job.write_text(
        "container: {image: busybox:local}\n"
        "caches: ['myproj-npm:/home/ci/.npm', {key: myproj-pip, path: /pip/}]\n"
    )
    # When a flag names one of the keys again, and another key
    flags = ["--cache", "myproj-pip:/root/.cache/pip", "--cache", "tools:/opt/tools"]
    result = dockfleet("run", "--dry-run", "-f", str(job), *flags)
    # Then the flag's item replaces the file's of the same key and the new one is added
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["caches"] == [
        {"key": "myproj-npm", "path": "/home/ci/.npm"},
        {"key": "myproj-pip", "path": "/root/.cache/pip"},
        {"key": "tools", "path": "/opt/tools"},
    ]
    # And a path for a key is refused in the file as on the command line
    job.write_text("container: {image: busybox:local}\ncaches: ['../npm:/npm']\n")
    assert "caches.0.key" in one_line(dockfleet("run", "--dry-run", "-f", str(job)))
