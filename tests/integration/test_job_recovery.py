"""Exactly once across worker loss: kill -9 mid-job, a new worker adopts, each job reports once."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from datetime import UTC, datetime

import docker

from dockfleet import Fleet, JobHandle
from tests.support.services import wait_for
from tests.support.worker_hosts import WorkerHost, bare_host, counting, log_lines

LINES = 12


#: a host whose workers the test may kill; short leases so adoption comes quickly
crash_host = bare_host("tc", DOCKFLEET_JOB_LEASE_SECONDS="3", DOCKFLEET_WORKER_CONCURRENCY="6")


def run_jobs(fleet: Fleet, host: WorkerHost, codes: list[int]) -> list[JobHandle]:
    """A job per exit code, each printing line-1 .. line-12; once each has started."""
    handles = [fleet.run_job(host.job(counting(LINES, 0.25), code)) for code in codes]
    wait_running(fleet, handles)
    return handles


def wait_running(fleet: Fleet, handles: list[JobHandle]) -> None:
    """Until every job has printed at least its first line."""

    def all_started() -> bool:
        return all(next(iter(h.logs(follow=False)), None) is not None for h in handles)

    wait_for(all_started, 30, "jobs to start")


def assert_reported_once_in_full(
    handles: list[JobHandle],
    codes: list[int],
    engine: docker.DockerClient,
    host: str,
    since: datetime,
) -> None:
    results = [h.wait(timeout=90) for h in handles]
    assert [r.exit_code for r in results] == codes
    assert [r.status for r in results] == ["succeeded" if c == 0 else "failed" for c in codes]
    for handle in handles:
        assert log_lines(handle) == [f"line-{i}" for i in range(1, LINES + 1)], handle.id
    # No job container left, and none ever made twice
    selector = {"label": f"dockfleet.host={host}"}
    assert engine.containers.list(all=True, filters=selector) == []
    events = engine.events(
        since=since,
        until=datetime.now(UTC),
        decode=True,
        filters={"type": "container", "event": "create", **selector},
    )
    created = Counter(e["Actor"]["Attributes"]["name"] for e in events)
    assert created == {f"dfj-{h.id}": 1 for h in handles}


def test_killing_the_whole_worker_mid_job_loses_and_duplicates_nothing(
    fleet: Fleet, local_engine: docker.DockerClient, crash_host: WorkerHost
) -> None:
    # Given five jobs running on a host
    since = datetime.now(UTC)
    first = crash_host.start_worker()
    codes = [0, 1, 2, 3, 4]
    handles = run_jobs(fleet, crash_host, codes)

    # When its worker is killed with SIGKILL, and a new worker comes up for the host
    first.kill()
    time.sleep(1)
    crash_host.start_worker()

    # Then every job is adopted and reports once, with its true exit code and full log
    assert_reported_once_in_full(handles, codes, local_engine, crash_host.name, since)
    assert all(h.result is not None and h.result.adopted for h in handles)


def test_killing_a_prefork_pool_child_mid_job_loses_and_duplicates_nothing(
    fleet: Fleet, local_engine: docker.DockerClient, crash_host: WorkerHost
) -> None:
    # Given a prefork worker running two jobs, one per pool child
    since = datetime.now(UTC)
    worker = crash_host.start_worker(
        DOCKFLEET_WORKER_POOL="prefork", DOCKFLEET_WORKER_CONCURRENCY="2"
    )
    codes = [0, 7]
    handles = run_jobs(fleet, crash_host, codes)

    # When one pool child is killed with SIGKILL (the main process lives on)
    children = worker.children()
    assert len(children) == 2
    os.kill(children[0], signal.SIGKILL)

    # Then both jobs still report once, in full
    assert_reported_once_in_full(handles, codes, local_engine, crash_host.name, since)
