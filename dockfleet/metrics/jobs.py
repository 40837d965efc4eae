"""Job metrics: how many jobs ended how, how long they ran and waited, how many run now.

The counters and histograms are `dockfleet.store.job_metrics`, written in the
transactions that finish a job and stamp its start, so each job counts once, even
when a worker dies and another adopts its job. The running jobs are the jobs
claimed on each host and not yet finished (`job_records.running_on`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from dockfleet.store import job_metrics, job_records
from dockfleet.store.job_metrics import Histogram
from dockfleet.store.redis_types import Client

BY_STATUS = ["host", "status"]


def families(client: Client, hosts: list[str]) -> Iterator[Metric]:
    """The job families: counters of every host that ran a job, running jobs of `hosts`."""
    jobs = CounterMetricFamily(
        "dockfleet_jobs_total", "Jobs that ended, by host and status", labels=BY_STATUS
    )
    cpu = CounterMetricFamily(
        "dockfleet_job_cpu_seconds_total",
        "CPU time of the jobs' containers, counted when each job ends",
        labels=BY_STATUS,
    )
    duration = HistogramMetricFamily(
        "dockfleet_job_duration_seconds",
        "How long the job's container ran, of jobs whose container started",
        labels=BY_STATUS,
    )
    wait = HistogramMetricFamily(
        "dockfleet_job_queue_wait_seconds",
        "From the job's submit to the start of its container",
        labels=["host"],
    )
    for counts in job_metrics.read(client):
        host = counts.host
        for status, n in sorted(counts.jobs.items()):
            jobs.add_metric([host, status], float(n))
        for status, seconds in sorted(counts.cpu_seconds.items()):
            cpu.add_metric([host, status], seconds)
        for status, histogram in sorted(counts.durations.items()):
            _add(duration, [host, status], histogram)
        if counts.wait is not None:
            _add(wait, [host], counts.wait)
    running = GaugeMetricFamily(
        "dockfleet_jobs_running", "Jobs claimed on the host and not yet finished", labels=["host"]
    )
    for host, n in job_records.running_on(client, hosts).items():
        running.add_metric([host], float(n))
    yield from (jobs, cpu, duration, wait, running)


def _add(family: HistogramMetricFamily, labels: list[str], histogram: Histogram) -> None:
    buckets = [(_le(bound), float(n)) for bound, n in histogram.buckets]
    family.add_metric(labels, buckets, histogram.sum)


def _le(bound: float) -> str:
    """A bucket's ``le`` as Prometheus clients write it (``1.0``, ``+Inf``)."""
    return "+Inf" if bound == math.inf else repr(float(bound))
