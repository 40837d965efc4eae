"""One stats sweep of a host: sample every running fleet container, write it all at once.

Each container is read from its cgroup files when the worker sees them (about
a millisecond for twenty), else through parallel one-shot API calls (about a
second, the engine's collection cycle). CPU % is the delta of cumulative CPU
time against the previous sample kept in Redis, so any worker of the host
can take the next sweep. All writes go in one pipelined round trip: the
capped history stream per container, the host's latest view (replaced whole,
so a gone container drops out), the fleet-wide feed, image last-use times,
and the sampling mode in the host registry.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime

from dockfleet import labels as fleet_labels
from dockfleet.models import ContainerStats, SweepResult
from dockfleet.models.maintenance import SamplingMode
from dockfleet.store import batch, host_records, image_use, stats_history
from worker.engine import containers as engine_containers
from worker.engine import stats as engine_stats
from worker.engine.objects import ContainerSummary
from worker.maintenance.cgroups import CgroupReader, Counters
from worker.runtime import Runtime

log = logging.getLogger(__name__)

#: parallel one-shot API calls: each waits for the engine's 1-s stats cycle, so a sweep
#: takes ceil(containers / this) seconds (within the client's connection pool)
API_PARALLELISM = 128


def sweep(rt: Runtime) -> SweepResult:
    """Sample the host once; skipped when another worker of the host is mid-sweep."""
    started = time.perf_counter()
    turn = stats_history.take_sweep(rt.redis, rt.host, rt.settings.stats_interval)
    if turn is None:
        return SweepResult(host=rt.host, mode="none", containers=0, duration_ms=0, skipped=True)
    try:
        running = running_fleet(rt)
        previous = stats_history.previous(rt.redis, rt.host, [c.id for c in running])
        samples, mode = read_samples(rt, running)
        for sample in samples:
            sample.cpu_usage = cpu_percent(sample, previous.get(sample.id))
        read_ms = (time.perf_counter() - started) * 1000
        write(rt, samples, running, mode, read_ms)
    finally:
        stats_history.end_sweep(rt.redis, rt.host, turn)
    duration = (time.perf_counter() - started) * 1000
    return SweepResult(host=rt.host, mode=mode, containers=len(samples), duration_ms=duration)


def running_fleet(rt: Runtime) -> list[ContainerSummary]:
    labels = [f"{fleet_labels.MANAGED}=true", f"{fleet_labels.HOST}={rt.host}"]
    filters = {"label": labels, "status": ["running"]}
    return engine_containers.summaries(rt.docker, filters, every=False)


def read_samples(
    rt: Runtime, running: list[ContainerSummary]
) -> tuple[list[ContainerStats], SamplingMode]:
    """Samples of the `running` containers (CPU % not yet set) and the mode they were read in."""
    names = {c.id: c.name for c in running}
    samples: list[ContainerStats] = []
    rest = list(names)
    reader = CgroupReader(rt.settings.cgroup_root)
    if rt.settings.stats_mode != "api" and reader.available():
        rest = []
        for container_id, name in names.items():
            counters = reader.read(container_id)
            if counters is None:
                rest.append(container_id)
            else:
                samples.append(from_counters(container_id, name, rt.host, counters))
    via_cgroup = len(samples)
    if rest:
        samples.extend(_api_samples(rt, rest))
    mode: SamplingMode = "none"
    if samples:
        mode = "cgroup" if not rest else ("api" if not via_cgroup else "mixed")
    return samples, mode


def from_counters(container_id: str, name: str, host: str, c: Counters) -> ContainerStats:
    """A cgroup reading as a sample: the counters keep their names (CPU % is set later,
    against the previous sample)."""
    limit = c.memory_limit
    return ContainerStats(
        id=container_id,
        name=name,
        host=host,
        read_at=datetime.now(UTC),
        memory_percent=(c.memory_usage / limit * 100.0) if limit else 0.0,
        mode="cgroup",
        **asdict(c),
    )


def _api_samples(rt: Runtime, ids: list[str]) -> list[ContainerStats]:
    def one(container_id: str) -> ContainerStats | None:
        try:
            return engine_stats.one_shot(rt.docker, container_id, rt.host)
        except Exception as exc:  # it exited between the listing and the call
            log.debug("no stats for %s: %s", container_id[:12], exc)
            return None

    with ThreadPoolExecutor(min(API_PARALLELISM, len(ids))) as pool:
        return [s for s in pool.map(one, ids) if s is not None]


def cpu_percent(sample: ContainerStats, before: ContainerStats | None) -> float:
    """Percent of one core (200 = two busy cores) since the previous sample."""
    if before is None or sample.read_at is None or before.read_at is None:
        return 0.0
    elapsed_ns = (sample.read_at - before.read_at).total_seconds() * 1e9
    used_ns = sample.cpu_total_ns - before.cpu_total_ns
    if elapsed_ns <= 0 or used_ns < 0:
        return 0.0  # clock step or a restarted container: no honest figure this time
    return round(used_ns / elapsed_ns * 100.0, 2)


def write(
    rt: Runtime,
    samples: list[ContainerStats],
    running: list[ContainerSummary],
    mode: SamplingMode,
    read_ms: float,
) -> None:
    """Everything a sweep writes, in one round trip (MULTI: readers never see a half view)."""
    now = time.time()
    with batch.together(rt.redis, atomic=True) as pipe:
        stats_history.write_sweep(pipe, rt.host, samples, rt.settings.retention)
        image_use.touch(pipe, rt.host, [c.image_id for c in running], now)
        host_records.write_sweep(pipe, rt.host, mode, now, read_ms, len(samples))
