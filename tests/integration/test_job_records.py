"""A job's record in Redis (its wire spec, secrets included) always has a TTL: from the
write that makes it, through the run (renewed with the lease), to the retention after.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from dockfleet import BrokerUnavailable, ContainerConfig, Fleet, JobSpec, Settings, keys
from dockfleet.store import job_records
from tests.conftest import HEARTBEAT, TEST_IMAGE, Host, random_name
from tests.support.services import RedisServer, wait_for

pytestmark = pytest.mark.engine
RETENTION = 6


def values_holding(client: redis.Redis, text: str) -> list[str]:
    """The keys of every hash, string, list or stream in Redis whose content holds `text`."""
    found = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        content: Any = {
            "hash": client.hgetall,
            "string": client.get,
            "list": lambda k: client.lrange(k, 0, -1),
            "stream": lambda k: client.xrange(k),
        }.get(kind, lambda k: "")(key)
        if text in str(content):
            found.append(key)
    return found


@pytest.fixture
def lost_fleet(persistent_redis: RedisServer) -> Iterator[Fleet]:
    """A client of a Redis of its own (the test kills it), with a short retention."""
    settings = Settings(
        redis_url=persistent_redis.url,
        heartbeat_interval=HEARTBEAT,
        default_timeout=5,
        retention={"results_seconds": RETENTION},
    )
    fleet = Fleet(settings)
    yield fleet
    fleet.close()


def test_a_job_whose_send_and_cancel_both_failed_keeps_its_secret_only_for_the_retention(
    lost_fleet: Fleet, persistent_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Redis dies right after the job's record is written (before its message is sent)
    secret = "s3cr3t-" + secrets.token_hex(8)
    spec = JobSpec(
        container=ContainerConfig(image=TEST_IMAGE, cmd=["true"]),
        secret_env={"TOKEN": secret},
        host=random_name("nowhere"),
    )
    written = job_records.submit

    def submit_then_redis_dies(*args: Any) -> bool:
        answer = written(*args)
        persistent_redis.kill()
        return answer

    monkeypatch.setattr(job_records, "submit", submit_then_redis_dies)

    # When the client sends it: the send fails, and so does the cancel that follows
    with pytest.raises(BrokerUnavailable):
        lost_fleet.run_job(spec)

    # Then, Redis back (from its AOF), the record of the queued job is there with its
    # secret, but with a TTL of at most the retention
    persistent_redis.start()
    client = redis.Redis.from_url(persistent_redis.url, decode_responses=True)
    try:
        [job_key] = [k for k in client.scan_iter(keys.job("*")) if client.type(k) == "hash"]
        assert client.hget(job_key, "state") == "queued"
        assert secret in str(client.hget(job_key, "spec"))
        assert 0 < client.ttl(job_key) <= RETENTION

        # And once the retention has passed, the secret is nowhere in Redis
        wait_for(lambda: not client.exists(job_key), RETENTION + 5, "the record to expire")
        assert values_holding(client, secret) == []
    finally:
        client.close()


def test_a_job_record_has_a_ttl_while_the_job_runs_and_after(fleet: Fleet, host_a: Host) -> None:
    # Given a job that runs for a few lease renewals
    secret = "s3cr3t-" + secrets.token_hex(8)
    spec = JobSpec(
        container=ContainerConfig(image=TEST_IMAGE, cmd=["sh", "-c", "sleep 3"]),
        secret_env={"TOKEN": secret},
        host=host_a.name,
    )
    retention = Settings().retention.results_seconds  # the worker's (the default)
    handle = fleet.run_job(spec)
    client = fleet.transport.redis
    key = keys.job(handle.id)

    # When its record is watched until the job ends
    ttls, states = [], set()
    while handle.result is None:
        ttls.append(client.ttl(key))
        states.add(client.hget(key, "state"))
        time.sleep(0.1)

    # Then it had a TTL within the retention at every look, queued and running
    assert states >= {"running"}
    assert ttls and all(0 < ttl <= retention for ttl in ttls), sorted(set(ttls))
    # And once finished, the spec (its secret) is gone and the record kept for the retention
    assert handle.result.status == "succeeded"
    assert client.hget(key, "spec") is None
    assert 0 < client.ttl(key) <= fleet.settings.retention.results_seconds
    # (the task's message leaves the broker's unacked set just after the result)
    wait_for(lambda: values_holding(client, secret) == [], 10, "no secret left in Redis")
