"""The fleet a benchmark run measures: a private Redis, workers, and one Docker engine.

Everything a run makes carries its run id: fleet objects through the host
names (``dockfleet.host=bench-<run>-...``), direct docker-py objects through
the label ``dockfleet.bench=<run>``; `close` removes both, so a run leaves
the engine as it found it. The services come from the test support module.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import docker

from dockfleet import Fleet, Settings
from dockfleet import labels as fleet_labels
from tests.support import planting
from tests.support.services import RedisServer, WorkerProcess

IMAGE = "busybox:local"
BENCH_LABEL = "dockfleet.bench"
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


def engine_client(url: str) -> docker.DockerClient:
    """A bare docker-py client of the engine (its API version negotiated): the "docker-py
    direct" baselines. Not the worker's `make_client`, whose calls take the fleet's own
    HTTP path (`worker.engine.unix_transport`): a baseline made with it would measure
    the fleet's code on both sides."""
    return docker.DockerClient(base_url=url, version="auto", timeout=120)


@dataclass
class BenchEnv:
    """Redis, an engine, and the workers started so far (all stopped by `close`)."""

    docker_url: str
    quick: bool
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))
    redis: RedisServer = field(default_factory=RedisServer)
    workers: list[WorkerProcess] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    _main: str | None = None

    def __post_init__(self) -> None:
        self.engine = engine_client(self.docker_url)
        self.engine.ping()
        self.engine.images.get(IMAGE)
        self.redis.start()
        self.settings = Settings(redis_url=self.redis.url, default_timeout=120)
        self.fleet = Fleet(self.settings)

    # -- what a benchmark asks for --------------------------------------------

    def host_name(self, role: str) -> str:
        name = f"bench-{self.run_id}-{role}"
        self.hosts.append(name)
        return name

    def start_worker(self, host: str, **env: str) -> WorkerProcess:
        """A worker serving `host` on this run's engine; `env` adds DOCKFLEET_* settings."""
        base = {
            "DOCKFLEET_REDIS_URL": self.redis.url,
            "DOCKFLEET_DOCKER_HOST": self.docker_url,
            "DOCKFLEET_MAX_CONTAINERS": "1000",
            "DOCKFLEET_DEFAULT_TIMEOUT": "120",
        }
        worker = WorkerProcess(host, {**base, **env}, index=len(self.workers)).start()
        self.workers.append(worker)
        worker.wait_ready(self.redis.url)
        return worker

    def main_host(self) -> str:
        """The host most benchmarks share: one worker with the default settings (threads
        pool, concurrency 4), except that cleanup may remove a container as soon as it stops."""
        if self._main is None:
            self._main = self.host_name("main")
            self.start_worker(self._main, DOCKFLEET_CLEANUP__CONTAINER_GRACE="0")
        return self._main

    def stop_worker(self, worker: WorkerProcess) -> None:
        worker.stop()
        self.workers.remove(worker)

    def direct_labels(self) -> dict[str, str]:
        """Labels of what a benchmark creates directly (not through the fleet)."""
        return {BENCH_LABEL: self.run_id}

    def fleet_labels(self, host: str) -> dict[str, str]:
        """Labels that make a directly created container one of `host`'s fleet containers."""
        return {**fleet_labels.ownership(host), **self.direct_labels()}

    def plant(self, labels: dict[str, str], count: int, *, start: bool) -> list[str]:
        """`count` busybox containers with `labels` (``sleep`` when started), made 4 at a time."""

        def one(_: int) -> str:
            made = planting.container(self.engine, labels, cmd=["sleep", "3600"], start=start)
            return str(made.id)

        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(one, range(count)))

    def docker_cli(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        """The docker CLI against this run's engine."""
        return subprocess.run(["docker", "-H", self.docker_url, *args], capture_output=True)

    def repeats(self, full: int, quick: int = 1) -> int:
        return quick if self.quick else full

    # -- teardown ---------------------------------------------------------------

    def remove_containers(self, filters: dict[str, Any]) -> None:
        for container in self.engine.containers.list(all=True, filters=filters):
            try:
                container.remove(force=True)
            except docker.errors.NotFound:
                pass

    def close(self) -> None:
        for worker in list(self.workers):
            worker.stop()
        self.workers.clear()
        selectors = [f"{BENCH_LABEL}={self.run_id}"]
        selectors += [f"{fleet_labels.HOST}={h}" for h in self.hosts]
        for selector in selectors:
            self.remove_containers({"label": selector})
            for network in self.engine.networks.list(filters={"label": selector}):
                network.remove()
            for volume in self.engine.volumes.list(filters={"label": selector}):  # job caches
                volume.remove(force=True)
        self.fleet.close()
        self.engine.close()
        self.redis.stop()


def docker_url_from_env() -> str:
    return os.environ.get("DOCKFLEET_BENCH_DOCKER_HOST", DEFAULT_DOCKER_HOST)
