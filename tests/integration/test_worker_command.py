"""``dockfleet worker`` and the systemd unit of docs/: a host joins the fleet in one command.

The unit's own ``ExecStart`` line is run as systemd would run it (its program from
this install, a clean environment plus the environment file, from /), against a
private Redis with a password and the local engine: the worker registers, runs a
job, keeps the password out of its command line, and leaves on SIGTERM.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from dockfleet import ContainerConfig, Fleet, JobSpec, Settings
from tests.conftest import LOCAL_DOCKER, TEST_IMAGE, Host, remove_host_objects
from tests.support.cli import DOCKFLEET, FLEET_FAILED, one_error_line, run_dockfleet
from tests.support.services import REPO, RedisServer, end_process, require, wait_for

UNIT = REPO / "docs" / "dockfleet-worker.service"
#: ExecStart= prefixes that change how systemd runs the command, not the command
EXEC_PREFIXES = "-@:+!"


def service_entries(unit: Path) -> dict[str, str]:
    """The [Service] section of a unit file as systemd reads it: comments dropped, lines
    ending in a backslash joined; the last of a repeated key wins."""
    entries: dict[str, str] = {}
    section = ""
    pending = ""
    for raw in unit.read_text().splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service":
            key, _, value = line.partition("=")
            entries[key.strip()] = value.strip()
    return entries


def exec_start(unit: Path) -> list[str]:
    """The unit's ExecStart as argv, its program taken from this install (the unit names
    /opt/dockfleet/bin/dockfleet; here it is the test virtualenv's)."""
    argv = shlex.split(service_entries(unit)["ExecStart"].lstrip(EXEC_PREFIXES))
    assert Path(argv[0]).name == "dockfleet", argv
    return [DOCKFLEET, *argv[1:]]


def option_value(argv: list[str], option: str) -> str:
    return argv[argv.index(option) + 1]


@pytest.fixture(scope="module")
def private_redis() -> Iterator[RedisServer]:
    """A Redis of this module's own, with a password: the hosts these tests start (the
    unit's builder-2 among them) never meet the other tests' fleet."""
    server = RedisServer(password="pw-" + secrets.token_urlsafe(12)).start()
    yield server
    server.stop()


def service_environment(redis_url: str) -> dict[str, str]:
    """What a systemd service gets: a bare environment, plus its EnvironmentFile (here the
    test's Redis and engine, and a quick heartbeat)."""
    return {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
        # The tests' own state folder: no `dockfleet up` env file of the developer's.
        "DOCKFLEET_STATE_DIR": os.environ["DOCKFLEET_STATE_DIR"],
        "DOCKFLEET_REDIS_URL": redis_url,
        "DOCKFLEET_DOCKER_HOST": LOCAL_DOCKER,
        "DOCKFLEET_HEARTBEAT_INTERVAL": "1",
        "DOCKFLEET_NETWORK_POOL_SIZE": "1",
    }


class Started:
    """A worker process started from a command line, with its log and its fleet."""

    def __init__(self, argv: list[str], redis_url: str, log: Path, host: str, node: str) -> None:
        self.log = log
        self.host = host
        self.node = node
        self.fleet = Fleet(Settings(redis_url=redis_url, heartbeat_interval=1, default_timeout=20))
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                argv,
                cwd="/",
                env=service_environment(redis_url),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def workers(self) -> list[str]:
        hosts = {h.name: h for h in self.fleet.hosts()}
        return hosts[self.host].workers if self.host in hosts else []

    def wait_registered(self) -> None:
        def registered() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited:\n{self.log_text()[-3000:]}")
            return self.node in self.workers()

        wait_for(registered, 60, f"worker {self.node} in the heartbeat", interval=0.2)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def close(self, engine: docker.DockerClient) -> None:
        end_process(self.process, 30)
        self.fleet.close()
        remove_host_objects(Host(self.host, LOCAL_DOCKER, engine))


def test_the_systemd_units_exec_start_joins_the_fleet_runs_a_job_and_stops_on_sigterm(
    private_redis: RedisServer, local_engine: docker.DockerClient, tmp_path: Path
) -> None:
    # Given the unit's ExecStart, run from / with the service's environment
    argv = exec_start(UNIT)
    host = option_value(argv, "--host-name")
    node = f"{host}@{socket.gethostname()}"
    remove_host_objects(Host(host, LOCAL_DOCKER, local_engine))  # a crashed earlier run's
    worker = Started(argv, private_redis.url, tmp_path / "worker.log", host, node)
    try:
        # Then the worker registers its host through its heartbeat
        worker.wait_registered()
        # and it is Celery itself (dockfleet exec'd it: one pid), with no secret in argv
        cmdline = Path(f"/proc/{worker.process.pid}/cmdline").read_bytes().split(b"\0")
        shown = b" ".join(cmdline).decode()
        assert "celery" in shown and "worker.app" in shown, shown
        assert private_redis.password and private_redis.password not in shown, shown
        # When a job is sent to the fleet, it runs there
        spec = JobSpec(
            container=ContainerConfig(image=TEST_IMAGE, cmd=["echo", "built on the unit"]),
            timeout=60,
        )
        handle = worker.fleet.run_job(spec)
        result = handle.wait(timeout=60)
        assert (result.status, result.exit_code, result.host) == ("succeeded", 0, host), result
        assert "built on the unit" in [line.line for line in handle.logs(follow=False)]
        # When systemd stops it (SIGTERM to the main process: KillMode=mixed)
        worker.process.send_signal(signal.SIGTERM)
        # Then it leaves its host and exits cleanly
        assert worker.process.wait(60) == 0, worker.log_text()[-3000:]
        assert node not in worker.workers()
        assert "Traceback" not in worker.log_text()
    finally:
        worker.close(local_engine)


def test_pool_and_concurrency_options_reach_the_worker_instead_of_being_ignored(
    private_redis: RedisServer, local_engine: docker.DockerClient, tmp_path: Path
) -> None:
    # Given `-P prefork -c 2`, which `celery worker` alone would replace by the setting's pool
    host = "tw-" + secrets.token_hex(3)
    argv = [DOCKFLEET, "worker", "--host-name", host, "-P", "prefork", "-c", "2"]
    node = f"{host}@{socket.gethostname()}"
    worker = Started(argv, private_redis.url, tmp_path / "worker.log", host, node)
    try:
        worker.wait_registered()
        # Then Celery's banner shows the pool and concurrency asked for
        assert "concurrency: 2 (prefork)" in worker.log_text(), worker.log_text()[:3000]
    finally:
        worker.close(local_engine)


def test_the_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    verify = shutil.which("systemd-analyze")
    require(verify is not None, "systemd-analyze (apt-get install systemd)")
    assert verify is not None
    # The unit as installed here: verify checks that its program exists.
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace("/opt/dockfleet/bin/dockfleet", DOCKFLEET))
    done = subprocess.run([verify, "verify", str(unit)], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_a_bad_setting_stops_dockfleet_worker_with_one_line_before_celery_starts(
    private_redis: RedisServer,
) -> None:
    done = run_dockfleet(
        "worker",
        "--host-name",
        "tw-bad",
        redis_url=private_redis.url,
        DOCKFLEET_MAX_CONTAINERS="abc",
    )
    assert done.returncode == FLEET_FAILED
    one_error_line(done, "DOCKFLEET_MAX_CONTAINERS", "env")


@pytest.mark.parametrize("program", ["worker", "beat"])
def test_a_bad_setting_stops_celery_itself_with_one_line(
    private_redis: RedisServer, program: str
) -> None:
    # The unit's RestartPreventExitStatus=125 holds for `celery -A worker.app ...` too
    env = {**os.environ, "DOCKFLEET_REDIS_URL": private_redis.url, "DOCKFLEET_MAX_CONTAINERS": "x"}
    done = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "worker.app", program],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == FLEET_FAILED
    one_error_line(done, "DOCKFLEET_MAX_CONTAINERS", "env")


@pytest.mark.parametrize(
    ("option", "words"),
    [
        (["-Q", "other"], ["-Q", "refused", "queues"]),
        (["--exclude-queues=dockfleet.jobs"], ["--exclude-queues", "refused"]),
        (["-ED"], ["-D", "refused", "foreground"]),
        (["--time-limit", "60"], ["--time-limit", "refused"]),
        (["--no-such-option"], ["no such option", "--no-such-option"]),
        (["--host-name", "no spaces"], ["--host-name"]),
    ],
)
def test_options_that_would_break_the_fleet_are_refused_in_one_line(
    option: list[str], words: list[str]
) -> None:
    done = run_dockfleet("worker", "--dry-run", *option, redis_url="redis://127.0.0.1:9/0")
    assert done.returncode == FLEET_FAILED
    one_error_line(done, *words)


def test_settings_go_to_the_environment_and_celery_options_pass_through() -> None:
    # Given a Redis URL with a password, the settings options and two of Celery's options
    password = "pw-" + secrets.token_hex(8)
    done = run_dockfleet(
        "--redis-url",
        f"redis://:{password}@fleet-redis.internal:6379/0",
        "worker",
        "--host-name=builder-9",
        "--docker-host=tcp://builder-9.internal:2376",
        "-P",
        "threads",
        "-c",
        "6",
        "--max-tasks-per-child",
        "50",
        "--prefetch-multiplier=4",
        "--dry-run",
        "--json",
        redis_url="redis://127.0.0.1:9/0",
    )
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    # Then the settings are variables, the password masked, never in the command
    assert plan["environment"] == {
        "DOCKFLEET_HOST_NAME": "builder-9",
        "DOCKFLEET_DOCKER_HOST": "tcp://builder-9.internal:2376",
        "DOCKFLEET_WORKER_CONCURRENCY": "6",
        "DOCKFLEET_WORKER_POOL": "threads",
        "DOCKFLEET_REDIS_URL": "redis://:***@fleet-redis.internal:6379/0",
    }
    command = plan["command"]
    assert password not in done.stdout + done.stderr
    assert command[1:7] == ["-m", "celery", "-A", "worker.app", "worker", "-n"]
    assert plan["node"] == "builder-9@%h" == command[7]
    assert "-P" not in command and "-c" not in command
    # and Celery's options pass, in order, with what to know about them
    assert command[-3:] == ["--max-tasks-per-child", "50", "--prefetch-multiplier=4"]
    assert any("threads pool" in w for w in plan["warnings"]), plan["warnings"]
    assert any("--prefetch-multiplier" in w for w in plan["warnings"]), plan["warnings"]


def test_dry_run_shows_the_command_and_its_variables() -> None:
    done = run_dockfleet(
        "worker", "--host-name", "builder-9", "--dry-run", redis_url="redis://127.0.0.1:9/0"
    )
    assert done.returncode == 0, done.stderr
    first, *variables = done.stdout.splitlines()
    assert shlex.split(first)[-5:] == [
        "builder-9@%h",
        "--loglevel",
        "INFO",
        "--without-mingle",
        "--without-gossip",
    ]
    assert variables == ["  DOCKFLEET_HOST_NAME=builder-9"]
