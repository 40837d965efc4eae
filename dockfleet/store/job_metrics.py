"""The job counters: how many jobs ended how on each host, how long they ran and waited.

Counters since the start, one hash per host (`keys.job_metrics`), plus the set of
hosts that have one (`keys.JOB_METRICS_HOSTS`). The exporter reads them at each
scrape (`dockfleet.metrics.jobs`), so they survive its restarts, and two exporters
agree. They are written only inside the Lua scripts of `job_records` that decide
what they count, which makes them exact under the exactly-once protocol:

- a job's end, as `end_args` spells it, in the one script that stores the job's
  first result (`lua/job_end.lua`: `finish`, and the cancel of a queued job in
  `claim` and `request_cancel`). A second `finish` (an adopter's, a redelivery's,
  a retry after a lost reply) finds the result and writes nothing, counters included;
- a job's queue wait (submit to the start of its container), in the histogram
  `wait_args` spells, by the script of `job_records.mark_started` that stamps the
  container's first start (`lua/job_start.lua`); an adoption's later start stamps,
  and counts, nothing.

The field names and bucket bounds are spelled here only: the scripts take them as
arguments.

A histogram is a count per bucket, not cumulated (one HINCRBY an observation),
each field named by its bucket's upper bound, and a sum; `read` cumulates. A
bound that a later release drops still counts, at read time, in the next larger
bound: changing the buckets never loses an observation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import redis

from dockfleet import keys
from dockfleet.models.jobs import JobResult
from dockfleet.store.replies import text

#: upper bounds of the job duration buckets (s): a trivial job to a two-hour build
DURATION_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0,
                    3600.0, 7200.0)  # fmt: skip
#: upper bounds of the queue wait buckets (s): a free host to a fleet backed up for an hour
WAIT_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
                3600.0)  # fmt: skip
# The fields of the hash: <counter>:<status>, <histogram>[:<status>]:le:<bound> and :sum.
_JOBS, _CPU, _DURATION, _WAIT = "jobs", "cpu", "duration", "wait"
_LE, _SUM, _INF = "le", "sum", "+Inf"


@dataclass
class Histogram:
    """Observations as Prometheus shows them: cumulative counts by upper bound, and a sum."""

    #: (upper bound, observations at most that), the last bound +Inf
    buckets: list[tuple[float, int]]
    sum: float = 0.0

    @property
    def count(self) -> int:
        return self.buckets[-1][1]


@dataclass
class HostJobs:
    """The job counters of one host since the start."""

    host: str
    #: jobs that ended, by status
    jobs: dict[str, int] = field(default_factory=dict)
    #: CPU seconds of the jobs' containers, by status
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    #: how long the containers of the jobs that ran one ran, by status
    durations: dict[str, Histogram] = field(default_factory=dict)
    #: submit to container start, of every job whose container started
    wait: Histogram | None = None


def end_args(result: JobResult) -> list[Any]:
    """What a job's end adds to its host's counters, as `lua/job_end.lua` takes it: the
    host, then n and n (field, amount) pairs for HINCRBY, then m and m pairs for
    HINCRBYFLOAT."""
    status = result.status
    counts: list[tuple[str, Any]] = [(f"{_JOBS}:{status}", 1)]
    # Written even when 0, so the series exists from the first job of its status on.
    sums: list[tuple[str, Any]] = [(f"{_CPU}:{status}", result.cpu_seconds)]
    # A job that never started its container (canceled in the queue, an image that
    # cannot be pulled) has no duration to tell: it is counted, not observed.
    if result.started_at is not None:
        name, bound = f"{_DURATION}:{status}", _bucket(DURATION_BUCKETS, result.duration)
        counts.append((f"{name}:{_LE}:{_bound_name(bound)}", 1))
        sums.append((f"{name}:{_SUM}", result.duration))
    return [result.host, *_pairs(counts), *_pairs(sums)]


def wait_args() -> tuple[Any, ...]:
    """The queue wait's histogram, as `lua/job_start.lua` observes it: the key of a host's
    counters without the host's name, the sum's field, (bound, field) pairs of its buckets
    and the field of the +Inf bucket."""
    return _WAIT_ARGS


def read(client: redis.Redis) -> list[HostJobs]:
    """The job counters of every host that has some, in one round trip after the listing."""
    hosts = sorted(text(h) for h in client.smembers(keys.JOB_METRICS_HOSTS))
    pipe = client.pipeline(transaction=False)
    for host in hosts:
        pipe.hgetall(keys.job_metrics(host))
    found: list[dict[Any, Any]] = pipe.execute()
    return [
        _parse(host, {text(k): text(v) for k, v in raw.items()})
        for host, raw in zip(hosts, found, strict=True)
    ]


def _pairs(pairs: list[tuple[str, Any]]) -> list[Any]:
    return [len(pairs), *(part for pair in pairs for part in pair)]


def _bucket(bounds: tuple[float, ...], value: float) -> float:
    """The upper bound of the bucket that counts `value` (`lua/job_start.lua` chooses the
    wait's bucket alike)."""
    return next((b for b in bounds if value <= b), math.inf)


def _bound_name(bound: float) -> str:
    return _INF if math.isinf(bound) else f"{bound:g}"


# The host's name ends a counters' key (`keys.job_metrics`).
_WAIT_ARGS = (
    keys.job_metrics(""),
    f"{_WAIT}:{_SUM}",
    *(part for b in WAIT_BUCKETS for part in (repr(b), f"{_WAIT}:{_LE}:{_bound_name(b)}")),
    f"{_WAIT}:{_LE}:{_INF}",
)


def _parse(host: str, fields: dict[str, str]) -> HostJobs:
    found = HostJobs(host)
    # histogram name -> stored (bound, count) pairs, and its sum
    counts: dict[str, list[tuple[float, int]]] = {}
    sums: dict[str, float] = {}
    for name, value in fields.items():
        head, _, rest = name.partition(":")
        if head == _JOBS:
            found.jobs[rest] = int(value)
        elif head == _CPU:
            found.cpu_seconds[rest] = float(value)
        elif name.endswith(f":{_SUM}"):
            sums[name.removesuffix(f":{_SUM}")] = float(value)
        elif f":{_LE}:" in name:
            histogram, _, bound = name.rpartition(f":{_LE}:")
            counts.setdefault(histogram, []).append((float(bound), int(value)))
    for histogram, stored in counts.items():
        head, _, status = histogram.partition(":")
        bounds = DURATION_BUCKETS if head == _DURATION else WAIT_BUCKETS
        made = Histogram(_cumulate(bounds, stored), sums.get(histogram, 0.0))
        if head == _DURATION:
            found.durations[status] = made
        elif head == _WAIT:
            found.wait = made
    return found


def _cumulate(bounds: Iterable[float], stored: list[tuple[float, int]]) -> list[tuple[float, int]]:
    """Prometheus's buckets: for each bound, the observations stored at or below it."""
    return [(b, sum(n for at, n in stored if at <= b)) for b in (*bounds, math.inf)]
