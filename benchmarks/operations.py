"""Benchmark 2: each container task through the fleet vs the same docker-py call.

One round walks a container through create, start, inspect, list, stop and
remove, once through `Fleet` (by reference, as a user calls it: routing
included) and once directly, alternating, so both see the same engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from benchmarks import direct
from benchmarks.env import BenchEnv
from benchmarks.harness import Report, Table
from benchmarks.render import show
from dockfleet.models import ContainerFilter

NAME = "operations"
OPERATIONS = ("create", "start", "inspect", "list", "stop", "remove")
CMD = ["sleep", "3600"]

Steps = dict[str, Callable[[Any], Any]]


def fleet_steps(env: BenchEnv, host: str) -> tuple[Callable[[], Any], Steps]:
    fleet = env.fleet

    def create() -> Any:
        return fleet.create_container(direct.config(CMD), host=host).id

    return create, {
        "start": fleet.start_container,
        "inspect": fleet.inspect_container,
        "list": lambda _: fleet.list_containers(ContainerFilter(host=host)),
        "stop": lambda ref: fleet.stop_container(ref, timeout=0),
        "remove": fleet.remove_container,
    }


def direct_steps(env: BenchEnv, host: str) -> tuple[Callable[[], Any], Steps]:
    api = env.engine.api
    labels = env.fleet_labels(host)
    selector = {"label": [f"dockfleet.host={host}"]}

    def create() -> Any:
        return api.create_container(**direct.create_body(CMD, labels))["Id"]

    return create, {
        "start": api.start,
        "inspect": api.inspect_container,
        "list": lambda _: api.containers(all=True, filters=selector),
        "stop": lambda ref: api.stop(ref, timeout=0),
        "remove": api.remove_container,
    }


def one_round(create: Callable[[], Any], steps: Steps, into: dict[str, list[float]]) -> None:
    started = time.perf_counter()
    ref = create()
    into["create"].append((time.perf_counter() - started) * 1000)
    for name, step in steps.items():
        started = time.perf_counter()
        step(ref)
        into[name].append((time.perf_counter() - started) * 1000)


def run(env: BenchEnv, report: Report) -> None:
    host = env.main_host()
    ways = {"docker-py direct": direct_steps(env, host), "fleet": fleet_steps(env, host)}
    samples: dict[str, dict[str, list[float]]] = {w: {op: [] for op in OPERATIONS} for w in ways}
    rounds = env.repeats(15, 2)
    for index in range(rounds + 1):
        for way, (create, steps) in ways.items():
            into: dict[str, list[float]] = {op: [] for op in OPERATIONS}
            one_round(create, steps, into)
            if index:  # round 0 warms both paths up
                for op in OPERATIONS:
                    samples[way][op] += into[op]
    table = report.table(Table("Container operations", "ms per call"))
    for op in OPERATIONS:
        base = f"{op}: docker-py"
        table.add(base, samples["docker-py direct"][op])
        table.add(f"{op}: fleet", samples["fleet"][op], base)
    table.notes.append(
        "the fleet's create also counts the host's containers under a Redis lock "
        "(max_containers) and inspects the result; list is one task per host"
    )
    show(table)
    for op in OPERATIONS:
        overhead = table.row(f"{op}: fleet").median - table.row(f"{op}: docker-py").median
        report.target(f"{op}: fleet overhead per call", f"+{overhead:.1f} ms", None)
