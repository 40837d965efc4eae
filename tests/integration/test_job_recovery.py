"""Exactly once across worker loss: kill -9 mid-job, a new worker adopts, each job reports once."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import docker
import pytest

from dockfleet import Fleet, JobHandle, JobSpec
from dockfleet.policy_model import SecurityPolicy
from tests.conftest import (
    LOCAL_DOCKER,
    TEST_IMAGE,
    Host,
    random_name,
    remove_host_objects,
    worker_env,
)
from tests.support.services import WorkerProcess, wait_for

LINES = 12


def counting_job(host: str, code: int) -> JobSpec:
    script = f"for i in $(seq 1 {LINES}); do echo line-$i; sleep 0.25; done; exit {code}"
    return JobSpec.model_validate(
        {"container": {"image": TEST_IMAGE, "cmd": ["sh", "-c", script]}, "host": host}
    )


@pytest.fixture
def crash_host(
    redis_url: str, local_engine: docker.DockerClient, policy: SecurityPolicy
) -> Iterator[tuple[Host, dict[str, str]]]:
    """A host whose workers the test may kill; short leases so adoption comes quickly."""
    env = worker_env(
        redis_url,
        LOCAL_DOCKER,
        policy,
        DOCKFLEET_JOB_LEASE_SECONDS="3",
        DOCKFLEET_WORKER_CONCURRENCY="6",
    )
    host = Host(random_name("tc"), LOCAL_DOCKER, local_engine)
    yield host, env
    for worker in host.workers:
        worker.stop()
    remove_host_objects(host)


def start_worker(host: Host, env: dict[str, str], redis_url: str, *args: str) -> WorkerProcess:
    worker = WorkerProcess(host.name, env, index=len(host.workers), extra_args=list(args))
    host.workers.append(worker.start())
    worker.wait_ready(redis_url)
    return worker


def wait_running(fleet: Fleet, handles: list[JobHandle]) -> None:
    """Until every job has printed at least its first line."""

    def all_started() -> bool:
        return all(next(iter(h.logs(follow=False)), None) is not None for h in handles)

    wait_for(all_started, 30, "jobs to start")


def assert_reported_once_in_full(
    handles: list[JobHandle],
    codes: list[int],
    engine: docker.DockerClient,
    host: Host,
    since: datetime,
) -> None:
    results = [h.wait(timeout=90) for h in handles]
    assert [r.exit_code for r in results] == codes
    assert [r.status for r in results] == ["succeeded" if c == 0 else "failed" for c in codes]
    for handle in handles:
        lines = [ln.line for ln in handle.logs(follow=False)]
        assert lines == [f"line-{i}" for i in range(1, LINES + 1)], handle.id
    # No job container left, and none ever made twice
    selector = {"label": f"dockfleet.host={host.name}"}
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
    fleet: Fleet,
    redis_url: str,
    local_engine: docker.DockerClient,
    crash_host: tuple[Host, dict[str, str]],
) -> None:
    # Given five jobs running on a host
    host, env = crash_host
    since = datetime.now(UTC)
    first = start_worker(host, env, redis_url)
    codes = [0, 1, 2, 3, 4]
    handles = [fleet.run_job(counting_job(host.name, code)) for code in codes]
    wait_running(fleet, handles)

    # When its worker is killed with SIGKILL, and a new worker comes up for the host
    first.kill()
    time.sleep(1)
    start_worker(host, env, redis_url)

    # Then every job is adopted and reports once, with its true exit code and full log
    assert_reported_once_in_full(handles, codes, local_engine, host, since)
    assert all(h.result is not None and h.result.adopted for h in handles)


def test_killing_a_prefork_pool_child_mid_job_loses_and_duplicates_nothing(
    fleet: Fleet,
    redis_url: str,
    local_engine: docker.DockerClient,
    crash_host: tuple[Host, dict[str, str]],
) -> None:
    # Given a prefork worker running two jobs, one per pool child
    host, env = crash_host
    since = datetime.now(UTC)
    prefork = {**env, "DOCKFLEET_WORKER_POOL": "prefork", "DOCKFLEET_WORKER_CONCURRENCY": "2"}
    worker = start_worker(host, prefork, redis_url)
    codes = [0, 7]
    handles = [fleet.run_job(counting_job(host.name, code)) for code in codes]
    wait_running(fleet, handles)

    # When one pool child is killed with SIGKILL (the main process lives on)
    children = worker.children()
    assert len(children) == 2
    os.kill(children[0], signal.SIGKILL)

    # Then both jobs still report once, in full
    assert_reported_once_in_full(handles, codes, local_engine, host, since)
