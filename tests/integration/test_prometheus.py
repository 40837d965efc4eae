"""A real Prometheus scrapes `dockfleet exporter` while real workers run jobs: its HTTP API
answers how many jobs ended how (each once, across a worker's death and an exporter
restart) and how long they took, and its number of series does not grow with the jobs.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest

from dockfleet import Fleet, JobHandle, JobSpec
from dockfleet.models.jobs import JobStatus
from tests.conftest import TEST_IMAGE
from tests.support.prometheus import Exporter, PrometheusServer, promtool_check
from tests.support.services import wait_for
from tests.support.sweeps import sweep
from tests.support.worker_hosts import WorkerHost, bare_host, counting

pytestmark = pytest.mark.engine

#: a host whose first worker the test kills; short leases, so its jobs are adopted soon
metrics_host = bare_host("tp", DOCKFLEET_JOB_LEASE_SECONDS="3", DOCKFLEET_WORKER_CONCURRENCY="6")


@pytest.fixture
def exporter(redis_url: str) -> Iterator[Exporter]:
    made = Exporter(redis_url).start()
    yield made
    made.stop()


@pytest.fixture
def prometheus(exporter: Exporter) -> Iterator[PrometheusServer]:
    server = PrometheusServer(f"127.0.0.1:{exporter.port}").start()
    yield server
    server.stop()


def job(host: WorkerHost, script: str, code: int = 0, timeout: float = 60) -> JobSpec:
    """A job of `host`: `script`, then ``exit code``; stopped at `timeout`, with a 1-s grace."""
    return JobSpec.model_validate(
        {
            "container": {"image": TEST_IMAGE, "cmd": ["sh", "-c", f"{script}; exit {code}"]},
            "host": host.name,
            "timeout": timeout,
            "stop_grace": 1,
        }
    )


def started(handles: list[JobHandle]) -> bool:
    return all(next(iter(h.logs(follow=False)), None) is not None for h in handles)


def test_prometheus_counts_each_job_once_by_status_through_a_worker_loss_and_a_restart(
    fleet: Fleet, metrics_host: WorkerHost, exporter: Exporter, prometheus: PrometheusServer
) -> None:
    # Given four jobs running on a host whose worker is then killed (kill -9): the next
    # worker of the host adopts them
    first = metrics_host.start_worker()
    handles = [fleet.run_job(job(metrics_host, counting(12, 0.25), c)) for c in (0, 0, 3, 3)]
    wait_for(lambda: started(handles), 30, "the first jobs to start")
    first.kill()
    metrics_host.start_worker()
    # And sixteen more: eight succeed, five fail, three time out
    handles += [fleet.run_job(job(metrics_host, f"sleep 0.{i}")) for i in range(8)]
    handles += [fleet.run_job(job(metrics_host, "echo oops", 3)) for _ in range(5)]
    handles += [fleet.run_job(job(metrics_host, "sleep 30", timeout=1)) for _ in range(3)]
    results = [h.wait(timeout=120) for h in handles]
    truth: Counter[JobStatus] = Counter(r.status for r in results)
    assert truth == {"succeeded": 10, "failed": 7, "timed_out": 3}
    assert any(r.adopted for r in results[:4])

    # When Prometheus scrapes the exporter
    host = f'host="{metrics_host.name}"'
    jobs_total = f"dockfleet_jobs_total{{{host}}}"

    # Then its API gives the true count of each status, and quantiles of job durations
    wait_for(lambda: prometheus.by("status", jobs_total) == truth, 20, "the counts in Prometheus")
    buckets = f"dockfleet_job_duration_seconds_bucket{{{host}}}"
    median = prometheus.scalar(f"histogram_quantile(0.5, sum by (le) ({buckets}))")
    assert median is not None and 0 < median <= 5
    timed_out = f'dockfleet_job_duration_seconds_bucket{{{host},status="timed_out"}}'
    slowest = prometheus.scalar(f"histogram_quantile(0.99, sum by (le) ({timed_out}))")
    assert slowest is not None and 1 <= slowest <= 5
    assert prometheus.scalar(f"sum(dockfleet_job_duration_seconds_count{{{host}}})") == 20
    assert prometheus.scalar(f"dockfleet_job_queue_wait_seconds_count{{{host}}}") == 20
    assert prometheus.scalar(f"dockfleet_jobs_running{{{host}}}") == 0
    assert prometheus.scalar(f"dockfleet_host_up{{{host}}}") == 1
    assert prometheus.scalar(f"dockfleet_host_max_containers{{{host}}}") == 100
    # And the exposition passes promtool's lint
    checked = promtool_check(exporter.exposition())
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout + checked.stderr

    # When the exporter restarts, and Prometheus scrapes it again
    exporter.stop()
    wait_for(lambda: prometheus.scalar('up{job="dockfleet"}') == 0, 15, "Prometheus to see it go")
    exporter.start()
    wait_for(lambda: prometheus.scalar('up{job="dockfleet"}') == 1, 15, "Prometheus to see it")

    # Then the counters go on where they were: the same counts, and no counter reset
    assert prometheus.by("status", jobs_total) == truth
    assert set(prometheus.by("status", f"resets({jobs_total}[5m])").values()) == {0.0}
    assert prometheus.scalar(f"sum(resets({buckets}[5m]))") == 0


def test_the_number_of_series_in_prometheus_stays_flat_while_200_more_jobs_run(
    fleet: Fleet, metrics_host: WorkerHost, exporter: Exporter, prometheus: PrometheusServer
) -> None:
    # Given a host with two workers that has run jobs (sampled by a sweep), and the
    # series Prometheus holds once it has scraped that
    for _ in range(2):
        metrics_host.start_worker()
    warm_up = [fleet.run_job(job(metrics_host, "echo up; sleep 2")) for _ in range(4)]
    wait_for(lambda: started(warm_up), 30, "the first jobs to start")
    sweep(fleet, metrics_host.name)
    for handle in warm_up:
        assert handle.wait(timeout=60).status == "succeeded"
    scraped_jobs = f'sum(dockfleet_jobs_total{{host="{metrics_host.name}"}})'
    wait_for(lambda: prometheus.scalar(scraped_jobs) == 4, 15, "the first jobs in Prometheus")
    before = prometheus.tsdb_head_series()

    # When 200 more jobs run, each for a second, while the host is swept every half second
    done = threading.Event()
    sweeper = threading.Thread(target=sweep_until, args=(fleet, metrics_host.name, done))
    sweeper.start()
    try:
        handles = [fleet.run_job(job(metrics_host, "sleep 1")) for _ in range(200)]
        statuses = Counter(h.wait(timeout=240).status for h in handles)
    finally:
        done.set()
        sweeper.join(30)
    assert statuses == {"succeeded": 200}
    wait_for(lambda: prometheus.scalar(scraped_jobs) == 204, 15, "the jobs in Prometheus")

    # Then Prometheus holds the same number of series, though the sweeps saw the jobs run
    assert prometheus.tsdb_head_series() == before
    memory = (
        f'max_over_time(dockfleet_container_memory_usage_bytes{{host="{metrics_host.name}"}}[5m])'
    )
    assert (prometheus.scalar(memory) or 0) > 0
    assert 'id="' not in exporter.exposition()


def sweep_until(fleet: Fleet, host: str, done: threading.Event) -> None:
    while not done.wait(0.5):
        try:
            sweep(fleet, host)
        except Exception:  # a sweep stuck behind the jobs in the host's queue: the next one
            continue
