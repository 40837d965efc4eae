"""A host of the test fleet whose workers the test itself starts, pauses and kills.

The exactly-once tests (adoption after a kill -9, a worker paused past its lease
or its lock) need a host with no worker until they start one, and short leases.
`bare_host` makes a fixture of one; on the way out it wakes what was paused, stops
every worker and removes what the host left on the engine.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import docker
import pytest
import redis

from dockfleet import Fleet, JobHandle, JobSpec, keys
from dockfleet.policy_model import SecurityPolicy
from dockfleet.store.log_entries import is_end
from tests.conftest import (
    LOCAL_DOCKER,
    TEST_IMAGE,
    Host,
    random_name,
    remove_host_objects,
    worker_env,
)
from tests.support.services import WorkerProcess, wait_for


@dataclass
class WorkerHost:
    """A host whose workers the test starts (`start_worker`), pauses and kills."""

    host: Host
    env: dict[str, str]
    redis_url: str
    client: redis.Redis
    #: pids of the workers stopped with SIGSTOP, woken on the way out
    paused: set[int] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.host.name

    def start_worker(self, docker_url: str = LOCAL_DOCKER, **extra: str) -> WorkerProcess:
        """One more worker of the host (its settings: the host's, then `extra`), once ready."""
        env = {**self.env, "DOCKFLEET_DOCKER_HOST": docker_url, **extra}
        worker = WorkerProcess(self.name, env, index=len(self.host.workers))
        self.host.workers.append(worker.start())
        worker.wait_ready(self.redis_url)
        return worker

    def pause(self, worker: WorkerProcess) -> None:
        os.kill(pid(worker), signal.SIGSTOP)
        self.paused.add(pid(worker))

    def resume(self, worker: WorkerProcess) -> None:
        os.kill(pid(worker), signal.SIGCONT)
        self.paused.discard(pid(worker))

    def job(self, script: str, code: int = 0) -> JobSpec:
        """A job of this host: `script` in the test image, then ``exit code``."""
        return JobSpec.model_validate(
            {
                "container": {"image": TEST_IMAGE, "cmd": ["sh", "-c", f"{script}; exit {code}"]},
                "host": self.name,
            }
        )

    def pause_mid_job(
        self, fleet: Fleet, spec: JobSpec, lines: int
    ) -> tuple[WorkerProcess, JobHandle]:
        """Start a worker and run `spec`'s job on it; once the job's log has `lines` lines,
        pause that worker. The worker and the job."""
        worker = self.start_worker()
        handle = fleet.run_job(spec)
        wait_for(lambda: len(log_lines(handle)) >= lines, 30, f"the job's first {lines} lines")
        self.pause(worker)
        return worker, handle

    def holder_pid(self, job_id: str) -> int | None:
        """The pid of the worker holding the job's lease now (its token: host/pid/tag)."""
        token = self.client.get(keys.job_lease(job_id))
        return int(str(token).split("/")[1]) if token else None

    def ends(self, job_id: str) -> int:
        """How many end-of-job entries the job's log stream holds (each is one report)."""
        entries = self.client.xrange(keys.job_log(job_id))
        return sum(1 for _, fields in entries if is_end(fields))


def pid(worker: WorkerProcess) -> int:
    assert worker.process is not None
    return worker.process.pid


def log_lines(handle: JobHandle) -> list[str]:
    """The lines a job's log holds now."""
    return [line.line for line in handle.logs(follow=False)]


def counting(lines: int, every: float) -> str:
    """A script that prints line-1 .. line-`lines`, one every `every` seconds."""
    return f"for i in $(seq 1 {lines}); do echo line-$i; sleep {every}; done"


def bare_host(prefix: str, **env: str) -> Any:
    """A fixture: a `WorkerHost` on the local engine with no worker yet (its settings: the
    tests', then `env`). Assign it to the fixture's name: ``race = bare_host("tr", ...)``."""

    @pytest.fixture
    def host(
        redis_url: str, local_engine: docker.DockerClient, policy: SecurityPolicy
    ) -> Iterator[WorkerHost]:
        settings = worker_env(redis_url, LOCAL_DOCKER, policy, **env)
        client = redis.Redis.from_url(redis_url, decode_responses=True)
        made = WorkerHost(
            Host(random_name(prefix), LOCAL_DOCKER, local_engine), settings, redis_url, client
        )
        yield made
        for paused in made.paused:
            os.kill(paused, signal.SIGCONT)  # a stopped process cannot take its SIGTERM
        for worker in made.host.workers:
            worker.stop()
        remove_host_objects(made.host)
        client.close()

    return host
