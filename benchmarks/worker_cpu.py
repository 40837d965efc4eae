"""Where a worker's CPU per trivial job goes, thread by thread, read from /proc.

``python -m benchmarks.worker_cpu [--docker-host URL] [--jobs N] [--repeats R]``
starts one worker (threads pool, default settings) with a private Redis, runs
N trivial fleet jobs one at a time, R times, and prints the worker's CPU per
job for each of its threads, busiest first: the job runner's pool threads,
the state-cache follower, Celery's consumer (the main thread), the heartbeat.
The total is the process's own (threads that ended during the run included).
The worker's idle CPU (its heartbeat and timers, measured for 10 s with no
job) is shown apart, as what a job's wall time costs anyway; so is the CPU of
a no-op task (Celery's ``celery.accumulate``, one at a time), what any task
costs the worker to receive, run, report and acknowledge: the part of a job's
CPU that is Celery's, not the fleet's. No profiler is
attached, so the figures are the process's own; `benchmarks.profile_job`
looks inside the runner.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import Counter
from pathlib import Path

from benchmarks.env import BenchEnv, docker_url_from_env
from benchmarks.job_overhead import fleet_job
from benchmarks.round_trip import NOOP_TASK, noop_task

IDLE_SECONDS = 10.0


def cpu_ms(stat: Path) -> float:
    """User + system CPU time so far of the task whose ``stat`` file this is, in ms."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def thread_cpu_ms(pid: int) -> dict[int, float]:
    """Thread id -> CPU time used so far, in ms (threads alive now only)."""
    found: dict[int, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found[int(task.name)] = cpu_ms(task / "stat")
        except OSError:
            continue  # the thread ended since the listing
    return found


def spent(before: dict[int, float], after: dict[int, float]) -> Counter[int]:
    return Counter({tid: ms - before.get(tid, 0.0) for tid, ms in after.items()})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worker_cpu")
    parser.add_argument("--docker-host", default=docker_url_from_env())
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    env = BenchEnv(args.docker_host, quick=False)
    try:
        host = env.main_host()
        job = fleet_job(env, host, network=False)
        for _ in range(3):
            job()  # warm-up: clients, image check, pools
        worker = next(w for w in env.workers if w.host == host)
        assert worker.process is not None
        pid = worker.process.pid
        totals: list[float] = []
        walls: list[float] = []
        for repeat in range(args.repeats):
            before, began = thread_cpu_ms(pid), time.monotonic()
            process_before = cpu_ms(Path(f"/proc/{pid}/stat"))
            for _ in range(args.jobs):
                job()
            used = spent(before, thread_cpu_ms(pid))
            walls.append((time.monotonic() - began) / args.jobs)
            # The process's own count: it includes threads that ended meanwhile (a job's
            # log follow runs on one), which the per-thread listing cannot see.
            totals.append((cpu_ms(Path(f"/proc/{pid}/stat")) - process_before) / args.jobs)
            threads = ", ".join(
                f"{'main' if tid == pid else tid}: {ms / args.jobs:.1f}"
                for tid, ms in used.most_common(5)
            )
            print(f"run {repeat + 1}: {totals[-1]:.1f} ms CPU per job ({threads})")
        noops = args.jobs * 3
        process_before = cpu_ms(Path(f"/proc/{pid}/stat"))
        send_noop = noop_task(env, host)
        for _ in range(noops):
            send_noop()
        noop = (cpu_ms(Path(f"/proc/{pid}/stat")) - process_before) / noops
        print(f"a no-op task ({NOOP_TASK}, one at a time): {noop:.1f} ms CPU per task")
        before = thread_cpu_ms(pid)
        time.sleep(IDLE_SECONDS)
        idle = sum(spent(before, thread_cpu_ms(pid)).values()) / IDLE_SECONDS / 1000
        wall = statistics.median(walls)
        total = statistics.median(totals)
        print(
            f"worker CPU per trivial job: {total:.1f} ms (median of {args.repeats}); idle "
            f"{idle * 1000:.1f} ms/s, {idle * wall * 1000:.1f} ms of it per job of "
            f"{wall * 1000:.0f} ms; the jobs' own: {total - idle * wall * 1000:.1f} ms"
        )
    finally:
        env.close()


if __name__ == "__main__":
    main()
