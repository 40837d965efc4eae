"""Benchmark 8: a workspace into a job's container, the fleet against ``docker cp`` (issue 13).

The same folder (200 MiB in 2,000 files; ``--quick``: 8 MiB) goes into a new
container of the same engine three ways, interleaved:

- ``docker create`` + ``docker cp DIR CONTAINER:/workspace`` (the baseline);
- the fleet: ``Fleet.run_job`` with the folder as its workspace, timed until it returns,
  that is until the worker has unpacked the workspace into the job's container (tarred
  on the client, streamed through Redis in the default 32 MiB window, checked and
  re-owned on the worker, streamed into the engine);
- the fleet, the same job without a workspace, run to its end: what a whole trivial job
  costs, for scale.

The issue's target: the fleet's row at most 1.5× the ``docker cp`` row.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from benchmarks.env import IMAGE, BenchEnv
from benchmarks.harness import Report, Table, interleaved
from benchmarks.render import show
from dockfleet.models.jobs import JobSpec

NAME = "workspace"
MIB = 1024 * 1024
TARGET_RATIO = 1.5


def make_folder(root: Path, files: int, size: int) -> Path:
    """`files` random files of `size` bytes below `root`, in 20 folders."""
    for i in range(files):
        folder = root / f"pkg{i % 20:02}"
        folder.mkdir(exist_ok=True)
        (folder / f"m{i:04}.bin").write_bytes(os.urandom(size))
    return root


def _docker_cp(env: BenchEnv, folder: Path) -> float:
    started = time.perf_counter()
    made = env.docker_cli("create", "--label", f"dockfleet.bench={env.run_id}", IMAGE, "true")
    container = made.stdout.decode().strip()
    copied = env.docker_cli("cp", str(folder), f"{container}:/workspace")
    elapsed = (time.perf_counter() - started) * 1000
    env.docker_cli("rm", "-f", container)
    if made.returncode or copied.returncode:
        raise RuntimeError(f"docker cp failed: {made.stderr!r} {copied.stderr!r}")
    return elapsed


def _fleet(env: BenchEnv, host: str, folder: Path | None) -> float:
    spec = JobSpec(
        container={"image": IMAGE, "cmd": ["true"]},
        host=host,
        network=False,
        workspace=str(folder) if folder else None,
    )
    started = time.perf_counter()
    handle = env.fleet.run_job(spec)
    if folder is None:  # nothing to wait for in run_job: the whole (trivial) job instead
        handle.wait(timeout=300)
    elapsed = (time.perf_counter() - started) * 1000
    result = handle.wait(timeout=300)
    if result.status != "succeeded":
        raise RuntimeError(f"fleet job {result.job_id}: {result.status} {result.error}")
    return elapsed


def run(env: BenchEnv, report: Report) -> None:
    host = env.main_host()
    files, size = (64, 128 * 1024) if env.quick else (2000, 100 * 1024)
    with tempfile.TemporaryDirectory(prefix="bench-workspace-") as tmp:
        folder = make_folder(Path(tmp), files, size)
        megabytes = files * size / MIB
        table = report.table(
            Table(f"A {megabytes:.0f} MiB workspace of {files} files into a new container", "ms")
        )
        base = "docker create + docker cp"
        fleet = "fleet: run_job until the workspace is in"
        setup = "fleet: the same job without a workspace, to its end"
        samples = interleaved(
            {
                base: lambda: _docker_cp(env, folder),
                fleet: lambda: _fleet(env, host, folder),
                setup: lambda: _fleet(env, host, None),
            },
            repeats=env.repeats(5, 1),
        )
        table.add(base, samples[base])
        table.add(fleet, samples[fleet], base, "window 32 MiB")
        table.add(setup, samples[setup], base, "for scale")
        show(table)
        ratio = table.ratio(fleet)
        report.target(
            f"workspace in ≤ {TARGET_RATIO}× docker cp", f"{ratio:.2f}×", ratio <= TARGET_RATIO
        )
