"""`dockfleet up` and `dockfleet down`: a real local fleet as child processes of one supervisor."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
import redis

from dockfleet.up.state import FleetRecord, StateDir, process_start_time
from tests.conftest import random_name
from tests.support.services import REPO, free_port, wait_for

pytestmark = pytest.mark.engine


class Cli:
    """`dockfleet` commands of a user whose shell has only DOCKFLEET_STATE_DIR set."""

    def __init__(self, state_dir: Path, **env: str) -> None:
        self.state = StateDir(state_dir)
        base = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKFLEET_", "FLOWER_"))}
        self.env = {**base, "DOCKFLEET_STATE_DIR": str(state_dir), **env}
        self.env.setdefault("DOCKFLEET_HEARTBEAT_INTERVAL", "1")

    def args(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "dockfleet", *args]

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.args(*args), env=self.env, cwd=REPO, capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.args(*args), env=self.env, cwd=REPO, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def record(self) -> FleetRecord:
        record = self.state.read()
        assert record is not None, "no fleet.json"
        return record


@pytest.fixture
def cli(local_engine: docker.DockerClient) -> Iterator[Cli]:
    folder = Path(tempfile.mkdtemp(prefix="dockfleet-up-"))
    user = Cli(folder)
    yield user
    user.run("down", "--purge", timeout=90)  # whatever a failed test left up
    host_objects = local_engine.containers.list(all=True, filters={"label": "dockfleet.managed"})
    for container in host_objects:
        if container.labels.get("dockfleet.host", "").startswith("tu-"):
            container.remove(force=True)
    # A killed supervisor's worker had no chance to drain its warm network pool.
    for network in local_engine.networks.list(filters={"label": "dockfleet.pool"}):
        if network.attrs.get("Labels", {}).get("dockfleet.pool", "").startswith("tu-"):
            network.remove()


def alive(pid: int, started: int) -> bool:
    return process_start_time(pid) == started


def all_gone(record: FleetRecord) -> bool:
    return not any(alive(p.pid, p.started) for p in record.processes)


def get(url: str, auth: tuple[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url)
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None


def test_up_detached_runs_a_job_for_other_shells_and_down_stops_everything(cli: Cli) -> None:
    # Given no Redis configured anywhere
    host = random_name("tu")
    port = free_port()

    # When the fleet is started in the background
    started = cli.run("up", "-d", "--host-name", host, "--flower-port", str(port))
    assert started.returncode == 0, started.stderr

    # Then it says where Flower is, with the credentials it made and kept private
    user, password = cli.state.flower_credentials()
    assert f"http://127.0.0.1:{port}" in started.stdout
    assert f"user {user}  password {password}" in started.stdout
    record = cli.record()
    assert [p.name for p in record.processes] == ["redis", "worker", "beat", "flower"]
    assert all(alive(p.pid, p.started) for p in record.processes)
    # And its own Redis needs the password and persists to an append-only file
    assert record.redis_started and password not in record.redis_url
    assert (cli.state.redis_dir / "appendonlydir").is_dir()
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(port=int(record.redis_url.rsplit(":", 1)[1].split("/")[0])).ping()

    # And a command of another shell (no DOCKFLEET_REDIS_URL) finds it through the env file
    hosts = cli.run("hosts", "--json")
    assert hosts.returncode == 0, hosts.stderr
    (mine,) = [h for h in json.loads(hosts.stdout) if h["name"] == host]
    assert mine["up"] and mine["workers"] == [f"{host}@{os.uname().nodename}"]
    job = cli.run("run", "busybox:local", "--", "sh", "-c", "echo hello from up; exit 4")
    assert job.returncode == 4, job.stderr
    assert job.stdout == "hello from up\n"
    # And Flower answers its API only with the credentials
    assert get(f"http://127.0.0.1:{port}/api/workers")[0] == 401
    status, workers = get(f"http://127.0.0.1:{port}/api/workers?refresh=1", (user, password))
    assert status == 200 and f"{host}@{os.uname().nodename}" in workers

    # When it is stopped from another shell
    stopped = cli.run("down")
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.strip() == "dockfleet: stopped flower, beat, worker, redis"

    # Then no process of it is left, nor its env file, and its data stays for the next up
    assert all_gone(record)
    assert not cli.state.env_path.exists() and cli.state.read() is None
    assert (cli.state.redis_dir / "appendonlydir").is_dir()
    again = cli.run("down")
    assert again.returncode == 0 and "no fleet is up" in again.stderr


def test_ctrl_c_stops_every_child_in_order(cli: Cli) -> None:
    # Given a fleet in the foreground
    process = cli.popen("up", "--host-name", random_name("tu"), "--no-flower", "--no-beat")
    wait_for(lambda: cli.record().status == "up", 60, "the fleet")
    record = cli.record()

    # When the user presses Ctrl-C
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)

    # Then it stops its children, worker before Redis, and exits cleanly
    assert process.returncode == 0, err
    assert err.index("stopping worker") < err.index("stopping redis")
    assert all_gone(record) and cli.state.read() is None


def test_children_do_not_outlive_a_killed_supervisor(cli: Cli) -> None:
    # Given a fleet in the foreground
    process = cli.popen("up", "--host-name", random_name("tu"), "--no-flower")
    wait_for(lambda: cli.record().status == "up", 60, "the fleet")
    record = cli.record()

    # When its supervisor is killed outright (no chance to stop anything)
    process.kill()
    process.communicate(timeout=10)

    # Then the kernel tells the children, and they all go
    wait_for(lambda: all_gone(record), 30, "the children to exit")
    # And `down` clears the stale record; a new `up` would start clean
    assert cli.run("down").returncode == 0
    assert cli.state.read() is None and not cli.state.env_path.exists()


def test_up_reuses_a_configured_redis_and_down_leaves_it_running(redis_url: str) -> None:
    # Given DOCKFLEET_REDIS_URL names a Redis that answers
    user = Cli(Path(tempfile.mkdtemp(prefix="dockfleet-up-")), DOCKFLEET_REDIS_URL=redis_url)
    try:
        started = user.run("up", "-d", "--host-name", random_name("tu"), "--no-flower")
        assert started.returncode == 0, started.stderr
        record = user.record()

        # Then no redis-server of its own was started
        assert not record.redis_started and record.redis_url == redis_url
        assert [p.name for p in record.processes] == ["worker", "beat"]
        assert "(reused)" in started.stdout
    finally:
        user.run("down", "--purge")

    # And the configured Redis still answers after down
    assert redis.Redis.from_url(redis_url).ping()
    assert all_gone(record)


def test_up_without_redis_server_says_what_to_install(tmp_path: Path) -> None:
    # Given a machine where redis-server is not installed (nothing on PATH)
    user = Cli(tmp_path / "state", PATH=str(tmp_path))

    result = user.run("up", "--no-flower", "--no-beat", timeout=30)

    assert result.returncode == 1
    assert "apt-get install redis-server" in result.stderr
    assert "Traceback" not in result.stderr
    assert user.state.read() is None


def test_up_warns_when_the_docker_engine_does_not_answer(tmp_path: Path) -> None:
    # Given a Docker host URL where no engine listens
    user = Cli(tmp_path / "state", DOCKFLEET_DOCKER_HOST="unix:///run/dockfleet-no-engine.sock")
    try:
        started = user.run("up", "-d", "--host-name", random_name("tu"), "--no-flower", "--no-beat")

        # Then the fleet comes up, and says plainly that its engine is missing
        assert started.returncode == 0, started.stderr
        assert (
            "warning: the Docker engine at unix:///run/dockfleet-no-engine.sock does not answer"
            in started.stdout
        )
        assert user.record().engine_ok is False
    finally:
        assert user.run("down", "--purge").returncode == 0


def test_a_worker_that_dies_is_started_again_and_its_running_job_still_reports(
    cli: Cli,
) -> None:
    # Given a fleet in the foreground with a job running on its worker
    host = random_name("tu")
    process = cli.popen("up", "--host-name", host, "--no-flower", "--no-beat")
    try:
        wait_for(lambda: cli.record().status == "up", 90, "the fleet")
        (first,) = [p for p in cli.record().processes if p.name == "worker"]
        job = cli.popen("run", "busybox:local", "--", "sh", "-c", "sleep 3; echo survived; exit 3")
        wait_for(lambda: b"dfj-" in subprocess.run(
            ["docker", "ps", "--filter", f"label=dockfleet.host={host}", "--format", "{{.Names}}"],
            capture_output=True,
        ).stdout, 30, "the job's container")  # fmt: skip

        # When the worker is killed outright
        os.kill(first.pid, signal.SIGKILL)

        # Then `up` starts a new worker, which adopts the job: it reports once, in full
        out, err = job.communicate(timeout=120)
        assert job.returncode == 3, err
        assert out == "survived\n"
        (second,) = [p for p in cli.record().processes if p.name == "worker"]
        assert second.pid != first.pid and alive(second.pid, second.started)
        assert cli.record().status == "up" and process.poll() is None
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=90)
    assert "worker exited on its own (code -9); starting it again" in err
