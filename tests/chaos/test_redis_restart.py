"""Redis dies (SIGKILL) and comes back (AOF, fsync always), twice, while 100 jobs are queued or
running.

Every job must be reported exactly once, with its true exit code and its full
log; no container is made twice or left behind. A job cut mid-setup resumes;
a message the broker lost in the kill is sent again after
`job_requeue_seconds`. With persistence off, a Redis
restart loses what it held (queued messages, job state): see README.
"""

from __future__ import annotations

import time

import docker
import pytest

from dockfleet import Fleet, JobSpec, Settings
from dockfleet.policy_model import SecurityPolicy
from tests.conftest import HEARTBEAT, LOCAL_DOCKER, TEST_IMAGE, random_name, worker_env
from tests.support.events import EventRecorder
from tests.support.services import RedisServer, WorkerProcess
from tests.support.stuck_jobs import describe, wait_all

pytestmark = pytest.mark.chaos
JOBS = 100
#: (seconds of work before the kill, seconds down): the second kill finds half-done setups
OUTAGES = [(3.0, 2.0), (1.5, 0.5)]
#: every job reports within this (~30 s here), leaving the rest of the test's 300 s to say
#: where the ones that did not are
WAIT_SECONDS = 200


def test_a_redis_crash_under_100_jobs_loses_and_duplicates_nothing(
    persistent_redis: RedisServer, local_engine: docker.DockerClient, policy: SecurityPolicy
) -> None:
    # Given a host with a worker of concurrency 4, and 100 jobs submitted at once
    host = random_name("tr")
    env = worker_env(persistent_redis.url, LOCAL_DOCKER, policy, DOCKFLEET_JOB_LEASE_SECONDS="20")
    worker = WorkerProcess(host, env).start()
    fleet = Fleet(Settings(redis_url=persistent_redis.url, heartbeat_interval=HEARTBEAT))
    recorder = EventRecorder(local_engine, {"label": f"dockfleet.host={host}"}).__enter__()
    try:
        worker.wait_ready(persistent_redis.url)
        script = "echo start-{i}; sleep 0.2; echo end-{i}; exit {code}"
        handles = [
            fleet.run_job(
                JobSpec.model_validate(
                    {
                        "container": {
                            "image": TEST_IMAGE,
                            "cmd": ["sh", "-c", script.format(i=i, code=i % 5)],
                        },
                        "host": host,
                        "network": False,
                    }
                )
            )
            for i in range(JOBS)
        ]

        # When Redis is killed mid-run and comes back from its AOF, twice
        for running, down in OUTAGES:
            time.sleep(running)
            persistent_redis.kill()
            time.sleep(down)
            persistent_redis.start()

        # Then every job reports once, with its own exit code and log
        results, unfinished = wait_all(handles, timeout=WAIT_SECONDS)
        assert not unfinished, (
            f"{len(unfinished)} jobs unfinished after {WAIT_SECONDS}s:\n"
            + describe(persistent_redis.url, host, unfinished, worker)
        )
        assert [r.exit_code for r in results] == [i % 5 for i in range(JOBS)]
        logs = [[ln.line for ln in h.logs(follow=False)] for h in handles]
        assert logs == [[f"start-{i}", f"end-{i}"] for i in range(JOBS)]
        # And no job made a second container, and none is left
        recorder.__exit__(None)
        assert recorder.count("create") == {f"dfj-{h.id}": 1 for h in handles}
        selector = {"label": f"dockfleet.host={host}"}
        assert local_engine.containers.list(all=True, filters=selector) == []
    finally:
        recorder.__exit__(None)
        fleet.close()
        worker.stop()
        for container in local_engine.containers.list(
            all=True, filters={"label": f"dockfleet.host={host}"}
        ):
            container.remove(force=True)
