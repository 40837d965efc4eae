"""dockerd stops under load and comes back: jobs end clearly, the host steps aside and returns.

Supported mode: without live-restore (the default) the engine kills its
containers when it stops, so a job running there ends `error` (engine gone) or
`failed` (killed), reported once; it is not adopted. The host is marked down
and stops taking shared jobs within two heartbeats, and takes them again once
the engine is back.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import docker
import pytest

from dockfleet import Fleet, JobSpec
from dockfleet.policy_model import SecurityPolicy
from dockfleet.queues import SHARED_QUEUE
from tests.conftest import LOCAL_DOCKER, TEST_IMAGE, random_name, worker_env
from tests.support.services import DockerDaemon, WorkerProcess, wait_for

pytestmark = pytest.mark.chaos


@pytest.fixture
def flaky_engine(local_engine: docker.DockerClient) -> Iterator[DockerDaemon]:
    daemon = DockerDaemon(secrets.token_hex(2), secrets.randbelow(200) + 20).start()
    try:
        daemon.load_image(TEST_IMAGE, LOCAL_DOCKER)
        yield daemon
    finally:
        if daemon.process is not None and daemon.process.poll() is not None:
            daemon.resume()  # so that stop() can clean its containers and data root
        daemon.docker(["rm", "-f", *daemon.docker(["ps", "-aq"]).stdout.decode().split()])
        daemon.stop()


def consumes_shared_queue(fleet: Fleet, worker: WorkerProcess) -> bool:
    replies = fleet.transport.app.control.inspect([worker.name], timeout=2).active_queues() or {}
    return SHARED_QUEUE in {q["name"] for q in replies.get(worker.name, [])}


def test_a_stopped_engine_ends_its_jobs_clearly_and_its_host_steps_aside(
    fleet: Fleet, redis_url: str, flaky_engine: DockerDaemon, policy: SecurityPolicy
) -> None:
    # Given a host (its own dockerd) running three long jobs
    host = random_name("te")
    worker = WorkerProcess(host, worker_env(redis_url, flaky_engine.url, policy)).start()
    try:
        worker.wait_ready(redis_url)
        spec = {"container": {"image": TEST_IMAGE, "cmd": ["sleep", "60"]}, "host": host}
        handles = [fleet.run_job(JobSpec.model_validate(spec)) for _ in range(3)]
        wait_for(lambda: all(h.state == "running" for h in handles), 30, "jobs running")
        assert consumes_shared_queue(fleet, worker)

        # When its engine stops
        flaky_engine.halt()

        # Then each job ends once, clearly, and the host is down and off the shared queue
        results = [h.wait(timeout=60) for h in handles]
        for result in results:
            assert result.status in ("error", "failed"), result
            if result.status == "error":  # the engine's last words, or its absence
                assert result.error and host in result.error
        wait_for(lambda: host not in fleet.live_hosts(), 5, "host marked down")
        wait_for(lambda: not consumes_shared_queue(fleet, worker), 10, "shared queue dropped")

        # And when the engine is back, the host is up and takes shared jobs again
        flaky_engine.resume()
        wait_for(lambda: host in fleet.live_hosts(), 10, "host back up")
        wait_for(lambda: consumes_shared_queue(fleet, worker), 10, "shared queue taken again")
        again = fleet.run_job(
            JobSpec.model_validate(
                spec | {"container": {"image": TEST_IMAGE, "cmd": ["echo", "back"]}}
            )
        ).wait(timeout=60)
        assert (again.status, again.host) == ("succeeded", host)
    finally:
        worker.stop()
