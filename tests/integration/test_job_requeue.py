"""A job whose broker message is lost, or stranded in a worker that lost its connection, still
runs once: the requeue sweep sends it again, and leaves messages that are only waiting alone.
And a message the broker restores long after its job finished does not run it again."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import docker
import pytest
import redis

from dockfleet import Fleet, JobSpec, keys
from dockfleet.policy_model import SecurityPolicy
from dockfleet.queues import host_queue
from dockfleet.store.broker_messages import UNACKED_INDEX_KEY, UNACKED_KEY
from tests import conftest
from tests.support.events import EventRecorder
from tests.support.services import WorkerProcess, wait_for

pytestmark = pytest.mark.engine
GRACE = "2"


@dataclass
class IdleHost:
    """A host with no worker yet (what is sent to it waits in its queue), and the fleet."""

    host: conftest.Host
    fleet: Fleet
    client: redis.Redis
    redis_url: str
    policy: SecurityPolicy

    @property
    def queue(self) -> str:
        return host_queue(self.host.name)

    def job(self, code: int) -> JobSpec:
        script = f"echo ran; exit {code}"
        return JobSpec.model_validate(
            {
                "container": {"image": conftest.TEST_IMAGE, "cmd": ["sh", "-c", script]},
                "host": self.host.name,
                "network": False,
            }
        )

    def take_message(self, job_id: str) -> str:
        """Remove the job's message from its queue, as a broker that lost it would."""
        for item in self.client.lrange(self.queue, 0, -1):
            if json.loads(item)["headers"]["id"] == job_id:
                assert self.client.lrem(self.queue, 1, item) == 1
                return str(item)
        raise AssertionError(f"no message for job {job_id} in {self.queue}")

    def start_worker(self) -> WorkerProcess:
        env = conftest.worker_env(
            self.redis_url, conftest.LOCAL_DOCKER, self.policy, DOCKFLEET_JOB_REQUEUE_SECONDS=GRACE
        )
        worker = WorkerProcess(self.host.name, env).start()
        self.host.workers.append(worker)
        worker.wait_ready(self.redis_url)
        return worker

    def requeued(self, job_id: str) -> int:
        """How many times the job was sent again."""
        return int(self.client.hget(keys.job(job_id), "requeued") or 0)

    def recorder(self) -> EventRecorder:
        return EventRecorder(self.host.engine, {"label": f"dockfleet.host={self.host.name}"})


@pytest.fixture
def idle(
    session_fleet: Fleet, local_engine: docker.DockerClient, redis_url: str, policy: SecurityPolicy
) -> Iterator[IdleHost]:
    host = conftest.Host(conftest.random_name("rq"), conftest.LOCAL_DOCKER, local_engine)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield IdleHost(host, session_fleet, client, redis_url, policy)
    for worker in host.workers:
        worker.stop()
    conftest.remove_host_objects(host)
    client.delete(host_queue(host.name))
    client.close()


def test_a_job_whose_message_the_broker_lost_is_sent_again_and_runs_once(idle: IdleHost) -> None:
    # Given two jobs queued for a host, one of whose messages the broker has lost
    lost, waiting = idle.fleet.run_job(idle.job(3)), idle.fleet.run_job(idle.job(4))
    idle.take_message(lost.id)
    time.sleep(float(GRACE))

    # When a worker of the host comes up
    with idle.recorder() as recorder:
        worker = idle.start_worker()
        results = [lost.wait(timeout=60), waiting.wait(timeout=60)]

    # Then both run once with their own exit codes; only the lost one was sent again
    assert [r.exit_code for r in results] == [3, 4]
    assert [[ln.line for ln in h.logs(follow=False)] for h in (lost, waiting)] == [["ran"]] * 2
    assert recorder.count("create") == {f"dfj-{lost.id}": 1, f"dfj-{waiting.id}": 1}
    assert [idle.requeued(h.id) for h in (lost, waiting)] == [1, 0]
    assert f"job {lost.id}: its message was lost" in worker.log_path.read_text()
    assert idle.client.zscore(keys.queued_jobs(idle.queue), lost.id) is None


def test_a_job_stranded_in_a_worker_that_lost_its_broker_connection_is_sent_again(
    idle: IdleHost,
) -> None:
    # Given a job whose message a worker took a minute ago and forgot (its connection dropped):
    # kombu keeps it as delivered, hidden for its whole visibility timeout
    job = idle.fleet.run_job(idle.job(5))
    raw = idle.take_message(job.id)
    tag = uuid.uuid4().hex
    idle.client.hset(UNACKED_KEY, tag, json.dumps([json.loads(raw), "", idle.queue]))
    idle.client.zadd(UNACKED_INDEX_KEY, {tag: time.time() - 60})
    time.sleep(float(GRACE))

    try:
        # When a worker of the host comes up
        with idle.recorder() as recorder:
            idle.start_worker()
            result = job.wait(timeout=60)

        # Then the job runs once, and the stranded copy is gone (never restored as a twin)
        assert result.exit_code == 5 and idle.requeued(job.id) == 1
        assert recorder.count("create") == {f"dfj-{job.id}": 1}
        assert not idle.client.hexists(UNACKED_KEY, tag)
        assert idle.client.zscore(UNACKED_INDEX_KEY, tag) is None
    finally:
        idle.client.hdel(UNACKED_KEY, tag)
        idle.client.zrem(UNACKED_INDEX_KEY, tag)


def test_a_message_restored_after_its_job_record_expired_does_not_run_the_job_again(
    idle: IdleHost,
) -> None:
    # Given a job that finished long ago (its record has expired) and whose message kombu
    # restores now, as it does with a message left unacknowledged past its visibility timeout
    job = idle.fleet.run_job(idle.job(6))
    message = json.loads(idle.take_message(job.id))
    idle.client.delete(keys.job(job.id), keys.job_log(job.id))
    idle.client.zrem(keys.queued_jobs(idle.queue), job.id)
    message["headers"]["redelivered"] = True
    message["properties"]["delivery_info"]["redelivered"] = True
    idle.client.lpush(idle.queue, json.dumps(message))

    # When a worker of the host takes it
    with idle.recorder() as recorder:
        worker = idle.start_worker()
        wait_for(
            lambda: f"job {job.id}: a late redelivery" in worker.log_path.read_text(),
            30,
            "the worker to take the restored message",
        )

    # Then nothing runs and no record comes back
    assert recorder.count("create") == {}
    assert idle.client.llen(idle.queue) == 0
    assert not idle.client.exists(keys.job(job.id))
