"""Benchmark 4: removing 200 stopped fleet containers vs `docker container prune`.

Each round plants the containers afresh (created, never started: stopped as
far as both cleanups are concerned, and 200 of them take seconds instead of
a minute) and times only the removal: the fleet's ``Fleet.cleanup(host)``
(plan with one inspect per container, then remove one by one), `docker
container prune` limited by a label filter to this round's containers, and a
plain docker-py loop (list by label, remove each) as the floor of any client.
"""

from __future__ import annotations

import secrets

from benchmarks.env import BenchEnv
from benchmarks.harness import Report, Table, interleaved, timed
from benchmarks.render import show
from dockfleet.models import CleanupReport

NAME = "cleanup"
BATCH_LABEL = "dockfleet.bench.batch"


def run(env: BenchEnv, report: Report) -> None:
    host = env.main_host()
    count = env.repeats(200, 5)
    api = env.engine.api

    def batch_labels() -> tuple[dict[str, str], str]:
        batch = secrets.token_hex(4)
        return {**env.direct_labels(), BATCH_LABEL: batch}, f"{BATCH_LABEL}={batch}"

    def fleet() -> float:
        env.plant(env.fleet_labels(host), count, start=False)
        reports: list[CleanupReport] = []
        elapsed = timed(lambda: reports.extend(env.fleet.cleanup(host=host)))()
        removed = sum(len(r.of_kind("container")) for r in reports)
        if removed != count:
            raise RuntimeError(f"fleet cleanup removed {removed} of {count}")
        return elapsed

    def prune() -> float:
        labels, selector = batch_labels()
        env.plant(labels, count, start=False)
        prune_cli = ("container", "prune", "-f", "--filter", f"label={selector}")
        elapsed = timed(lambda: env.docker_cli(*prune_cli))()
        _check_gone(env, selector)
        return elapsed

    def loop() -> float:
        labels, selector = batch_labels()
        env.plant(labels, count, start=False)

        def remove_all() -> None:
            for row in api.containers(all=True, filters={"label": selector}):
                api.remove_container(row["Id"], v=True)

        elapsed = timed(remove_all)()
        _check_gone(env, selector)
        return elapsed

    samples = interleaved(
        {"prune": prune, "fleet": fleet, "loop": loop}, repeats=env.repeats(3, 1), warmup=0
    )
    table = report.table(Table(f"Cleanup of {count} stopped containers", "ms"))
    base = "docker container prune (label filter)"
    table.add(base, samples["prune"])
    table.add("fleet cleanup task", samples["fleet"], base)
    table.add("docker-py list + remove loop", samples["loop"], base)
    show(table)
    ratio = table.ratio("fleet cleanup task")
    report.target("cleanup ≤ 1.2× docker container prune", f"{ratio:.2f}×", ratio <= 1.2)


def _check_gone(env: BenchEnv, selector: str) -> None:
    left = env.engine.api.containers(all=True, filters={"label": selector})
    if left:
        raise RuntimeError(f"{len(left)} containers of {selector} were not removed")
