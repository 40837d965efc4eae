"""Benchmark 5: the floor the queue sets — a no-op task through the fleet's broker and backend.

The no-op is Celery's built-in ``celery.accumulate`` called with no
arguments (it returns ``[]`` and touches nothing), sent by name to the host's
queue through the fleet's own transport, so it pays exactly what every
dockfleet task pays to travel: publish, consume, late ack, result write and
read. Beside it: ``dockfleet.system.ping`` (a real task: one ``GET /_ping``),
and the two bare round trips it is built on, Redis PING and docker-py ping.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.env import BenchEnv
from benchmarks.harness import Report, Table, interleaved, timed
from benchmarks.render import show
from dockfleet.queues import host_queue

NAME = "round-trip"
NOOP_TASK = "celery.accumulate"


def noop_task(env: BenchEnv, host: str) -> Callable[[], Any]:
    """One no-op task through `host`'s queue and the fleet's transport, waited for: what
    any task costs to travel (the queue's floor)."""
    queue, transport = host_queue(host), env.fleet.transport
    return lambda: transport.call(NOOP_TASK, [], queue, timeout=30)


def run(env: BenchEnv, report: Report) -> None:
    host = env.main_host()
    queue = host_queue(host)
    transport = env.fleet.transport
    noop = noop_task(env, host)

    samples = interleaved(
        {
            "Redis PING": timed(transport.redis.ping),
            "docker-py ping": timed(env.engine.api.ping),
            f"no-op task ({NOOP_TASK})": timed(noop),
            "dockfleet.system.ping": timed(lambda: env.fleet.ping(host)),
        },
        repeats=env.repeats(200, 5),
        warmup=3,
    )
    table = report.table(Table("Task round trip, one at a time", "ms"))
    table.add("Redis PING", samples["Redis PING"])
    table.add("docker-py ping", samples["docker-py ping"])
    table.add(f"no-op task ({NOOP_TASK})", samples[f"no-op task ({NOOP_TASK})"], "Redis PING")
    table.add("dockfleet.system.ping", samples["dockfleet.system.ping"], "docker-py ping")
    show(table)

    burst = env.repeats(500, 10)

    def flood() -> float:
        def send_all() -> None:
            sent = [transport.send(NOOP_TASK, [], queue, timeout=60) for _ in range(burst)]
            for result in sent:
                transport.wait(result, queue, 60)

        return burst / (timed(send_all)() / 1000)

    rate = interleaved({"no-op": flood}, repeats=env.repeats(3, 1), warmup=0)["no-op"]
    rates = report.table(
        Table(f"No-op task throughput, {burst} sent at once", "tasks/s", higher_is_better=True)
    )
    rates.add("one worker, threads pool, concurrency 4", rate)
    show(rates)
    median = table.row(f"no-op task ({NOOP_TASK})").median
    report.target("no-op task round trip (the queue's floor)", f"{median:.1f} ms", None)
    report.target("no-op task throughput", f"{rates.rows[0].median:.0f} tasks/s", None)
