"""The counters the exporter shows: written in the transactions that decide what they count,
so a job counts once however often it is finished, started or canceled; kept in Redis.

Real Redis (the session's). Each test uses hosts of its own name.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

import redis

from dockfleet import keys
from dockfleet.models import ContainerStats
from dockfleet.models.jobs import JobResult, JobStatus
from dockfleet.settings import RetentionSettings
from dockfleet.store import batch, job_metrics, job_records, stats_history, usage_totals
from dockfleet.store.job_metrics import HostJobs
from tests.conftest import random_name

RETENTION = 60
SPEC = {"container": {"image": "busybox:local", "cmd": ["true"]}}


def counters(client: redis.Redis, host: str) -> HostJobs:
    found = [c for c in job_metrics.read(client) if c.host == host]
    return found[0] if found else HostJobs(host)


def claimed_job(client: redis.Redis, host: str, target: str | None = None) -> str:
    """A job submitted (for `target`) and claimed on `host`."""
    job_id = uuid.uuid4().hex
    assert job_records.submit(client, job_id, SPEC, target, RETENTION)
    assert (
        job_records.claim(client, job_id, host, RETENTION, lease_token="t", lease_ttl_ms=15000)
        == "run"
    )
    return job_id


def ended(job_id: str, host: str, status: JobStatus, duration: float) -> JobResult:
    started = datetime.now(UTC)
    return JobResult(
        job_id=job_id,
        host=host,
        status=status,
        started_at=started,
        finished_at=started + timedelta(seconds=duration),
        duration=duration,
        cpu_seconds=0.25,
    )


def test_a_job_finished_twice_is_counted_once_with_the_first_result(client: redis.Redis) -> None:
    # Given a running job on a host
    host = random_name("jm")
    job_id = claimed_job(client, host)

    # When its worker finishes it, and an adopter (or a retry) finishes it again otherwise
    job_records.finish(client, job_id, ended(job_id, host, "failed", 3.0), RETENTION)
    job_records.finish(client, job_id, ended(job_id, host, "succeeded", 70.0), RETENTION)

    # Then one job is counted, as the first result says, its duration and CPU once
    counts = counters(client, host)
    assert counts.jobs == {"failed": 1}
    assert counts.cpu_seconds == {"failed": 0.25}
    duration = counts.durations["failed"]
    assert duration.count == 1 and duration.sum == 3.0
    assert dict(duration.buckets)[2.5] == 0 and dict(duration.buckets)[5.0] == 1
    assert list(counts.durations) == ["failed"]


def test_a_job_canceled_in_the_queue_is_counted_without_a_duration(client: redis.Redis) -> None:
    # Given a job queued for a host
    host = random_name("jm")
    job_id = uuid.uuid4().hex
    job_records.submit(client, job_id, SPEC, host, RETENTION)

    # When it is canceled before any worker claims it, and a worker then claims it
    assert job_records.request_cancel(client, job_id, RETENTION) == "queued"
    assert (
        job_records.claim(client, job_id, host, RETENTION, lease_token="t", lease_ttl_ms=15000)
        == "finished"
    )

    # Then it is counted once as canceled, with no duration: its container never ran
    counts = counters(client, host)
    assert counts.jobs == {"canceled": 1}
    assert counts.durations == {} and counts.wait is None


def test_the_queue_wait_is_observed_at_the_first_start_only(client: redis.Redis) -> None:
    # Given a job claimed on a host
    host = random_name("jm")
    job_id = claimed_job(client, host)
    created = datetime.fromisoformat(job_records.read(client, job_id)["created_at"])

    # When its container starts 7 s after the submit, and an adoption starts it again later
    first = (created + timedelta(seconds=7)).isoformat()
    job_records.mark_started(client, job_id, first)
    job_records.mark_started(client, job_id, (created + timedelta(seconds=90)).isoformat())

    # Then the first start is kept and the wait observed once, 7 s
    assert job_records.read(client, job_id)["started_at"] == first
    wait = counters(client, host).wait
    assert wait is not None and wait.count == 1 and math.isclose(wait.sum, 7.0)
    assert dict(wait.buckets)[5.0] == 0 and dict(wait.buckets)[10.0] == 1


def test_histograms_read_cumulative_and_keep_what_older_buckets_counted(
    client: redis.Redis,
) -> None:
    # Given a host whose counters hold a bucket bound no longer in the list (an older
    # release's 4 s) beside three jobs observed now
    host = random_name("jm")
    client.hset(keys.job_metrics(host), "duration:succeeded:le:4", 2)
    client.sadd(keys.JOB_METRICS_HOSTS, host)
    for seconds in (0.2, 9.0, 9000.0):
        job_id = claimed_job(client, host)
        job_records.finish(client, job_id, ended(job_id, host, "succeeded", seconds), RETENTION)

    # When they are read
    buckets = dict(counters(client, host).durations["succeeded"].buckets)

    # Then each bound counts what is at or below it, the old bound's in the next larger
    assert (buckets[0.5], buckets[2.5], buckets[5.0], buckets[10.0]) == (1, 1, 3, 4)
    assert buckets[7200.0] == 4 and buckets[math.inf] == 5


def test_usage_totals_add_each_containers_use_once(client: redis.Redis) -> None:
    # Given a host whose sweeps sample containers a and b, then only a (b was not read:
    # it is still running), then both again; b's CPU counter goes back at the end (it
    # restarted: a new cgroup)
    host = random_name("ut")

    def sample(container: str, cpu_ns: int, rx: int) -> ContainerStats:
        return ContainerStats(id=container, host=host, cpu_total_ns=cpu_ns, network_rx=rx)

    sweeps = [
        [sample("a", 10**9, 100), sample("b", 5 * 10**17, 1)],
        [sample("a", 3 * 10**9, 150)],
        [sample("a", 4 * 10**9, 150), sample("b", 2 * 10**9, 2)],
    ]

    # When each sweep is written as the sweep writes it (one MULTI)
    for samples in sweeps:
        with batch.together(client, atomic=True) as pipe:
            stats_history.write_sweep(pipe, host, samples, RetentionSettings())

    # Then the totals hold each container's use once: a's last value, b's first and its
    # value after the restart (exactly, however large)
    totals = usage_totals.totals(client, [host])[host]
    assert totals["cpu_total_ns"] == 4 * 10**9 + 5 * 10**17 + 2 * 10**9
    assert totals["network_rx"] == 150 + 2
    assert totals["disk_write"] == 0
    assert 0 < client.ttl(keys.usage_counted(host, "b")) <= usage_totals.COUNTED_SECONDS
