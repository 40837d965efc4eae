"""Benchmark 1: a trivial job (``busybox:local true``) through the fleet vs direct vs the CLI.

Latency: one job at a time, five ways, interleaved: direct docker-py
(create, start, wait, logs, remove), the fleet with ``network=False`` (the
same work), `docker run --rm`, and the per-job network both ways (direct
docker-py with a network made and removed around the job, and the fleet's
default). Throughput: a fixed number of jobs with 1, 2 and 4 in flight. CPU: what
each process (client, worker, Redis, engine) spends per job, direct and through the
fleet, with a Celery no-op task as the floor under the fleet's figures.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from benchmarks import direct, procs
from benchmarks.env import IMAGE, BenchEnv
from benchmarks.harness import Report, Table, Variant, interleaved, timed
from benchmarks.render import show
from benchmarks.round_trip import noop_task
from dockfleet.models.jobs import JobSpec

NAME = "jobs"
CONCURRENCY = (1, 2, 4)


def fleet_job(env: BenchEnv, host: str, network: bool) -> Callable[[], None]:
    def run() -> None:
        spec = JobSpec(container=direct.config(["true"]), network=network, host=host)
        handle = env.fleet.run_job(spec)
        result = handle.wait(timeout=120)
        list(handle.logs(follow=False))
        if result.status != "succeeded":
            raise RuntimeError(f"fleet job {result.job_id}: {result.status} {result.error}")

    return run


def direct_job(
    env: BenchEnv,
    network: bool,
    steps: dict[str, list[float]] | None = None,
    on_network: str | None = None,
) -> Callable[[], None]:
    labels = env.direct_labels()
    return lambda: direct.run_job(env.engine.api, labels, network, steps, on_network)


def cli_job(env: BenchEnv) -> Callable[[], None]:
    def run() -> None:
        done = env.docker_cli("run", "--rm", "--label", f"dockfleet.bench={env.run_id}", IMAGE)
        if done.returncode != 0:
            raise RuntimeError(f"docker run --rm failed: {done.stderr.decode()}")

    return run


def throughput(job: Callable[[], None], jobs: int, concurrency: int) -> Variant:
    """Jobs per second for `jobs` jobs with `concurrency` of them in flight."""

    def measure() -> float:
        elapsed = timed(lambda: _in_flight(job, jobs, concurrency))()
        return jobs / (elapsed / 1000)

    return measure


def _in_flight(job: Callable[[], None], jobs: int, concurrency: int) -> None:
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(job) for _ in range(jobs)]:
            future.result()


def run(env: BenchEnv, report: Report) -> None:
    host = env.main_host()
    steps: dict[str, list[float]] = {}
    # Made once, like a warm pooled network: what attaching to a user-defined bridge
    # costs the engine at start (its veth, its embedded DNS) with nothing of ours.
    ready = env.engine.networks.create(f"bench-ready-{env.run_id}", labels=env.direct_labels())
    latency = report.table(Table("Job latency, one at a time", "ms per job"))
    samples = interleaved(
        {
            "docker-py direct": timed(direct_job(env, False, steps)),
            "fleet, network=False": timed(fleet_job(env, host, False)),
            "docker run --rm": timed(cli_job(env)),
            "docker-py direct + network": timed(direct_job(env, True)),
            "docker-py direct, ready network": timed(direct_job(env, False, None, ready.name)),
            "fleet, network=True (default)": timed(fleet_job(env, host, True)),
        },
        repeats=env.repeats(15, 2),
    )
    base = "docker-py direct"
    latency.add(base, samples[base])
    latency.add("fleet, network=False", samples["fleet, network=False"], base)
    latency.add("docker run --rm", samples["docker run --rm"], base)
    net = "docker-py direct + network"
    latency.add(net, samples[net], base, "network create + remove around the job")
    on_ready = "docker-py direct, ready network"
    latency.add(on_ready, samples[on_ready], base, "the engine's cost of a user-defined network")
    fleet_net = "fleet, network=True (default)"
    latency.add(fleet_net, samples[fleet_net], "fleet, network=False", "cost of the job network")
    latency.notes.append(
        f"fleet, network=True vs docker-py direct + network: "
        f"{latency.ratio(fleet_net, net):.2f}× (the same engine work both ways)"
    )
    latency.notes.append(
        f"fleet, network=True vs docker-py direct, ready network: "
        f"{latency.ratio(fleet_net, on_ready):.2f}× (what the fleet adds to the engine's floor)"
    )
    show(latency)
    _steps_table(report, steps, env)
    _throughput_table(report, env, host)
    _cpu_table(report, env, host)
    _targets(report, latency)


def _steps_table(report: Report, steps: dict[str, list[float]], env: BenchEnv) -> None:
    """Where a direct job's time goes (the engine's share of the whole)."""
    table = report.table(Table("Direct docker-py job, by step", "ms"))
    for name, values in steps.items():
        table.add(name, values[1:] or values)  # the first is the warm-up round
    show(table)


def _throughput_table(report: Report, env: BenchEnv, host: str) -> None:
    jobs = 2 if env.quick else 16
    table = report.table(
        Table(f"Job throughput, {jobs} jobs per run", "jobs/s", higher_is_better=True)
    )
    for concurrency in CONCURRENCY:
        base = f"docker-py direct, c={concurrency}"
        fleet = f"fleet, network=False, c={concurrency}"
        fleet_net = f"fleet, network=True, c={concurrency}"
        samples = interleaved(
            {
                base: throughput(direct_job(env, False), jobs, concurrency),
                fleet: throughput(fleet_job(env, host, False), jobs, concurrency),
                fleet_net: throughput(fleet_job(env, host, True), jobs, concurrency),
            },
            repeats=env.repeats(5, 1),
            warmup=0,
        )
        table.add(base, samples[base])
        table.add(fleet, samples[fleet], base)
        table.add(fleet_net, samples[fleet_net], base)
    show(table)
    for concurrency in CONCURRENCY:
        ratio = table.ratio(f"fleet, network=False, c={concurrency}")
        report.target(
            f"job throughput at c={concurrency} ≥ 0.95× direct", f"{ratio:.2f}×", ratio >= 0.95
        )


#: issue 15's CPU targets: the worker's per trivial job, and the fleet's outside the engine
#: against a direct docker-py client's
WORKER_CPU_TARGET_MS = 15.0
OUTSIDE_ENGINE_TARGET = 2.0
NOOP = "Celery no-op task"


def _cpu_table(report: Report, env: BenchEnv, host: str) -> None:
    """CPU time per job, by process. With 4 jobs in flight the engine uses both cores,
    so CPU the fleet spends is CPU the engine lacks: this is throughput's cost sheet.

    A no-op task (Celery's ``celery.accumulate``) through the same client, worker and
    Redis shows the floor under the fleet's figures: what any Celery task costs them
    (send, receive, task events, ack, result), before the fleet does anything."""
    jobs = 2 if env.quick else 40
    worker = next(w for w in env.workers if w.host == host)
    assert worker.process is not None and env.redis.process is not None
    processes = {
        "client": [os.getpid()],
        "worker": procs.tree(worker.process.pid),
        "Redis": [env.redis.process.pid],
        "engine": procs.engine_pids(),
    }
    variants: dict[str, Callable[[], object]] = {
        "docker-py direct": direct_job(env, False),
        "fleet": fleet_job(env, host, False),
        NOOP: noop_task(env, host),
    }
    samples: dict[str, list[float]] = {}
    for _ in range(env.repeats(3, 1)):
        for name, job in variants.items():
            before = {part: procs.cpu_seconds(pids) for part, pids in processes.items()}
            for _ in range(jobs):
                job()
            spent = {
                part: (procs.cpu_seconds(pids) - before[part]) * 1000 / jobs
                for part, pids in processes.items()
            }
            spent["all but the engine"] = spent["client"] + spent["worker"] + spent["Redis"]
            for part, value in spent.items():
                samples.setdefault(f"{name}: {part}", []).append(value)
    table = report.table(Table(f"CPU time per job, {jobs} jobs one at a time", "ms CPU per job"))
    for part in (*processes, "all but the engine"):
        for name in variants:
            if name == NOOP and part == "engine":
                continue  # a no-op task makes no engine call
            compared = name != "docker-py direct" and part in ("engine", "all but the engine")
            baseline = f"docker-py direct: {part}" if compared else None
            table.add(f"{name}: {part}", samples[f"{name}: {part}"], baseline)
    table.notes.append(
        "engine: dockerd and containerd (a container's shim and runc exit with it, "
        "their CPU time with them)"
    )
    show(table)
    worker_ms = table.row("fleet: worker").median
    report.target(
        f"worker CPU per trivial job ≤ {WORKER_CPU_TARGET_MS:.0f} ms",
        f"{worker_ms:.1f} ms (a {NOOP}: {table.row(f'{NOOP}: worker').median:.1f} ms)",
        worker_ms <= WORKER_CPU_TARGET_MS,
    )
    outside = table.ratio("fleet: all but the engine")
    floor = table.ratio(f"{NOOP}: all but the engine")
    report.target(
        f"CPU outside the engine ≤ {OUTSIDE_ENGINE_TARGET:.0f}× direct",
        f"{outside:.2f}× (a {NOOP} alone: {floor:.2f}×)",
        outside <= OUTSIDE_ENGINE_TARGET,
    )


def _targets(report: Report, latency: Table) -> None:
    overhead = latency.ratio("fleet, network=False")
    report.target("job overhead ≤ 1.05× direct docker-py", f"{overhead:.2f}×", overhead <= 1.05)
    fleet_ms = latency.row("fleet, network=False").median
    cli_ms = latency.row("docker run --rm").median
    report.target(
        "job faster than docker run --rm",
        f"{fleet_ms:.0f} ms vs {cli_ms:.0f} ms",
        fleet_ms < cli_ms,
    )
    network = latency.ratio("fleet, network=True (default)")
    engine_share = latency.ratio("docker-py direct, ready network")
    report.target(
        "per-job network ≤ 1.10× a job without it",
        f"{network:.2f}× (the engine alone: {engine_share:.2f}×)",
        network <= 1.10,
    )
