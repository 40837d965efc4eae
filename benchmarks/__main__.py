"""``python -m benchmarks [--quick] [--docker-host URL] [--only NAME,...] [--markdown FILE]``.

Runs the benchmarks against one Docker engine (default: the local socket, or
``DOCKFLEET_BENCH_DOCKER_HOST``) with a private Redis and workers it starts
and stops itself. ``--quick`` runs each benchmark briefly to check that it
completes (CI); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType

from benchmarks import (
    artifacts,
    cache,
    cleanup,
    job_overhead,
    memory,
    operations,
    round_trip,
    service_job,
    stats_sweep,
    workspace,
)
from benchmarks.env import BenchEnv, docker_url_from_env
from benchmarks.harness import Report
from benchmarks.render import console, markdown, show_targets

#: in the order they run (and the issue's numbering)
BENCHMARKS: list[ModuleType] = [
    job_overhead,
    operations,
    stats_sweep,
    cleanup,
    round_trip,
    memory,
    service_job,
    workspace,
    artifacts,
    cache,
]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="each benchmark briefly (CI)")
    parser.add_argument("--docker-host", default=docker_url_from_env(), help="engine URL")
    names = ", ".join(m.NAME for m in BENCHMARKS)
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {names}")
    parser.add_argument("--markdown", type=Path, help="also write the report here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    unknown = wanted - {m.NAME for m in BENCHMARKS}
    if unknown:
        console.print(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
        return 2
    os.environ["DOCKFLEET_BENCH_DOCKER_HOST"] = args.docker_host
    report = Report(quick=args.quick)
    failed: list[str] = []
    env = BenchEnv(args.docker_host, args.quick)
    try:
        for module in BENCHMARKS:
            if wanted and module.NAME not in wanted:
                continue
            console.rule(f"{module.NAME}: {(module.__doc__ or '').splitlines()[0]}")
            started = time.monotonic()
            try:
                module.run(env, report)
            except Exception:
                failed.append(module.NAME)
                console.print(traceback.format_exc())
            console.print(f"[dim]{module.NAME} took {time.monotonic() - started:.0f} s[/dim]")
    finally:
        env.close()
    show_targets(report)
    if args.markdown:
        command = "python -m benchmarks " + shlex.join(sys.argv[1:] if argv is None else argv)
        args.markdown.write_text(markdown(report, command.strip()))
    if failed:
        console.print(f"[red]failed: {', '.join(failed)}[/red]")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
