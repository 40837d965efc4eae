"""Benchmark 6: worker memory (idle, and running 4 jobs) and Redis memory of stats history.

Worker memory is the resident set of the worker process and all its
children (RSS summed, as the target counts it; PSS beside it, which shares
copy-on-write pages of prefork children fairly). Stats history: 1,000 sweeps
through the worker over ten running containers, the Redis memory of the
history streams per container read at checkpoints; the stream cap
(``retention.stats_samples_per_container``, 360) must make it flat.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from benchmarks import direct
from benchmarks.env import BenchEnv
from benchmarks.harness import Report, Table
from benchmarks.procs import tree
from benchmarks.render import show
from dockfleet import keys
from dockfleet.models.jobs import JobSpec
from dockfleet.queues import TaskNames, host_queue
from tests.support.services import WorkerProcess

NAME = "memory"
MB = 1024 * 1024
JOB_SECONDS = 3


def _field_kb(path: str, name: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except OSError:
        pass  # exited between the listing and the read
    return 0


def memory_mb(worker: WorkerProcess) -> tuple[float, float]:
    """(RSS, PSS) in MB of the worker and its children."""
    assert worker.process is not None
    pids = tree(worker.process.pid)
    rss = sum(_field_kb(f"/proc/{p}/status", "VmRSS") for p in pids)
    pss = sum(_field_kb(f"/proc/{p}/smaps_rollup", "Pss") for p in pids)
    return rss / 1024, pss / 1024


def idle(worker: WorkerProcess, samples: int) -> tuple[list[float], list[float]]:
    time.sleep(2)  # let it settle after start
    readings = []
    for _ in range(samples):
        readings.append(memory_mb(worker))
        time.sleep(0.5)
    return [r for r, _ in readings], [p for _, p in readings]


def busy(env: BenchEnv, worker: WorkerProcess, host: str) -> tuple[list[float], list[float]]:
    """Memory every 0.2 s while the worker runs 4 jobs of `JOB_SECONDS` at once."""
    readings: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            readings.append(memory_mb(worker))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    spec = JobSpec(container=direct.config(["sleep", str(JOB_SECONDS)]), host=host)
    handles = [env.fleet.run_job(spec) for _ in range(4)]
    sampler.start()
    results = [h.wait(timeout=120) for h in handles]
    done.set()
    sampler.join()
    if any(r.status != "succeeded" for r in results):
        raise RuntimeError(f"jobs failed: {[(r.status, r.error) for r in results]}")
    return [r for r, _ in readings], [p for _, p in readings]


def run(env: BenchEnv, report: Report) -> None:
    threads_host, prefork_host = env.host_name("mem-threads"), env.host_name("mem-prefork")
    threads = env.start_worker(threads_host)
    prefork = env.start_worker(
        prefork_host, DOCKFLEET_WORKER_POOL="prefork", DOCKFLEET_WORKER_CONCURRENCY="2"
    )
    n = env.repeats(10, 2)
    rss = report.table(Table("Worker memory, process and children", "MB RSS"))
    pss = report.table(Table("Worker memory, process and children", "MB PSS"))
    base = "threads pool (default), concurrency 4, idle"
    for label, (r, p) in [
        (base, idle(threads, n)),
        ("prefork, concurrency 2, idle", idle(prefork, n)),
    ]:
        rss.add(label, r, None if label == base else base)
        pss.add(label, p, None if label == base else base)
    env.stop_worker(prefork)
    r, p = busy(env, threads, threads_host)
    busy_label = "threads pool, running 4 jobs (sampled every 0.2 s)"
    rss.add(busy_label, r, base)
    pss.add(busy_label, p, base)
    show(rss)
    show(pss)
    idle_rss = rss.row(base).median
    report.target(
        "idle worker ≤ 80 MB RSS in total", f"{idle_rss:.0f} MB (threads)", idle_rss <= 80
    )
    report.target("worker running 4 jobs", f"{max(r):.0f} MB RSS peak", None)
    _stats_history(env, report, threads_host)


def _stats_history(env: BenchEnv, report: Report, host: str) -> None:
    containers = env.repeats(10, 2)
    ids = env.plant(env.fleet_labels(host), containers, start=True)
    sweeps = env.repeats(1000, 20)
    checkpoints = {sweeps * k // 10 for k in (1, 2, 3, 4, 5, 7, 10)}
    redis = env.fleet.transport.redis
    queue = host_queue(host)
    table = report.table(Table(f"Redis stats history over {sweeps} sweeps", "bytes per container"))
    for done in range(1, sweeps + 1):
        env.fleet.transport.call(TaskNames.SAMPLE_STATS, [], queue, timeout=60)
        if done in checkpoints:
            sizes = [float(redis.memory_usage(keys.stats_history(host, i)) or 0) for i in ids]
            entries = int(redis.xlen(keys.stats_history(host, ids[0])))
            table.add(f"after {done} sweeps", sizes, note=f"{entries} samples kept")
    last, middle = table.rows[-1].median, table.rows[len(table.rows) // 2].median
    for row in table.rows:
        row.baseline = table.rows[-1].label
    show(table)
    growth = last / middle if middle else float("nan")
    report.target(
        f"stats history flat after {sweeps} sweeps",
        f"{last / 1024:.0f} KB/container, {growth:.2f}× the mid-run size",
        growth <= 1.05 if not env.quick else None,
    )
