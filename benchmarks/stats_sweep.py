"""Benchmark 3: one stats sweep of 10, 50 and 100 running containers, fleet vs direct.

Rows, interleaved per round: the fleet's sweep as a task through its worker
(``dockfleet.maintenance.sample_stats``, cgroup mode where the worker sees
cgroups), the same sweep function called in this process in cgroup mode and
in API mode (a worker's mode is fixed at start, so calling `sweep` directly
is how both modes meet the same containers in one round), `docker stats
--no-stream`, and ``stats(stream=False)`` in 24 threads. Sequential
``stats(stream=False)`` takes about 2 s a container, so it is timed on up to
ten containers and scaled to the whole set (marked "est.").
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks.env import BenchEnv
from benchmarks.harness import Report, Table, interleaved, timed
from benchmarks.render import show
from dockfleet.models import SweepResult
from dockfleet.queues import TaskNames, host_queue
from worker.maintenance import stats_sweep
from worker.runtime import Runtime

NAME = "stats"
SEQUENTIAL_SAMPLE = 10
PARALLEL = 24


def in_process(env: BenchEnv, host: str, mode: str) -> Runtime:
    """A worker's runtime for `host` in this process, sampling in `mode`."""
    settings = env.settings.model_copy(
        update={"host_name": host, "docker_host": env.docker_url, "stats_mode": mode}
    )
    return Runtime(settings)


def checked_sweep(rt: Runtime, expected: int, mode: str) -> None:
    result = stats_sweep.sweep(rt)
    if result.containers != expected or result.mode != mode:
        raise RuntimeError(f"sweep sampled {result.containers} in {result.mode}, not {expected}")


def run(env: BenchEnv, report: Report) -> None:
    host = env.host_name("stats")
    env.start_worker(host)
    queue = host_queue(host)
    cgroup_rt, api_rt = in_process(env, host, "cgroup"), in_process(env, host, "api")
    api = env.engine.api
    labels = env.fleet_labels(host)
    ids: list[str] = []
    worker_ms: list[float] = []

    def task_sweep() -> None:
        raw = env.fleet.transport.call(TaskNames.SAMPLE_STATS, [], queue, timeout=60)
        result = SweepResult.model_validate(raw)
        if result.containers != len(ids):
            raise RuntimeError(f"the worker sampled {result.containers} of {len(ids)}")
        worker_ms.append(result.duration_ms)

    def cli() -> None:
        done = env.docker_cli("stats", "--no-stream", *ids)
        if done.returncode != 0 or len(done.stdout.splitlines()) != len(ids) + 1:
            raise RuntimeError(f"docker stats failed: {done.stderr.decode()}")

    def parallel() -> None:
        with ThreadPoolExecutor(min(PARALLEL, len(ids))) as pool:
            list(pool.map(lambda i: api.stats(i, stream=False), ids))

    for count in (3,) if env.quick else (10, 50, 100):
        ids.extend(env.plant(labels, count - len(ids), start=True))
        worker_ms.clear()
        samples = interleaved(
            {
                "task": timed(task_sweep),
                "cgroup": timed(lambda: checked_sweep(cgroup_rt, len(ids), "cgroup")),
                "api": timed(lambda: checked_sweep(api_rt, len(ids), "api")),
                "cli": timed(cli),
                "parallel": timed(parallel),
            },
            repeats=env.repeats(5, 1),
        )
        sequential = _sequential(api, ids)
        table = report.table(Table(f"Stats sweep of {count} running containers", "ms"))
        base = "docker stats --no-stream"
        table.add(base, samples["cli"])
        table.add("fleet sweep task, cgroup (round trip)", samples["task"], base)
        table.add("fleet sweep() in-process, cgroup", samples["cgroup"], base)
        table.add("fleet sweep() in-process, API", samples["api"], base)
        table.add(f"stats(stream=False), {PARALLEL} threads", samples["parallel"], base)
        table.add("stats(stream=False), sequential (est.)", sequential, base, _seq_note(ids))
        table.notes.append(
            "worker-side duration of the task sweep: "
            f"{sorted(worker_ms)[len(worker_ms) // 2]:.1f} ms median"
        )
        show(table)
        if count == 50 or env.quick:
            _targets(report, table, count)


def _sequential(api: Any, ids: list[str]) -> list[float]:
    """Per-container times of sequential stats(stream=False), each scaled to all of `ids`."""
    scaled = []
    for container_id in ids[:SEQUENTIAL_SAMPLE]:
        started = time.perf_counter()
        api.stats(container_id, stream=False)
        scaled.append((time.perf_counter() - started) * 1000 * len(ids))
    return scaled


def _seq_note(ids: list[str]) -> str:
    measured = min(len(ids), SEQUENTIAL_SAMPLE)
    return f"{measured} containers timed, each × {len(ids)}"


def _targets(report: Report, table: Table, count: int) -> None:
    cgroup = table.row("fleet sweep task, cgroup (round trip)").median
    api = table.row("fleet sweep() in-process, API").median
    report.target(f"stats sweep of {count}, cgroup ≤ 50 ms", f"{cgroup:.1f} ms", cgroup <= 50)
    report.target(f"stats sweep of {count}, API ≤ 1.2 s", f"{api:.0f} ms", api <= 1200)
    speedup = 1 / table.ratio("fleet sweep task, cgroup (round trip)")
    report.target(
        f"stats sweep of {count} ≥ 8× faster than docker stats --no-stream (cgroup)",
        f"{speedup:.0f}×",
        speedup >= 8,
    )
    cli = table.row("docker stats --no-stream").median
    report.target(
        f"stats sweep of {count}, API mode vs docker stats --no-stream",
        f"{api:.0f} ms vs {cli:.0f} ms ({cli / api:.1f}× faster)",
        None,
    )
