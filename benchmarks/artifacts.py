"""Benchmark 10: a job's artifacts out to the client, the fleet against ``docker cp`` (issue 13).

The same folder (200 MiB in 2,000 files; ``--quick``: 8 MiB) comes out of a stopped
container of the same engine two ways, interleaved:

- ``docker cp CONTAINER:/workspace DIR`` of a stopped container holding it (the baseline;
  the folder is copied in first, untimed);
- the fleet: a job whose workspace is the folder (sent in, untimed) asks for all of it as
  artifacts (``**``); timed from its container's exit until both its result and its
  artifacts are here. The worker copies them out of the stopped container into its
  folder, then removes the container; ``Fleet.download_artifacts(wait=True)``, begun as
  the job is sent (as an attached ``dockfleet run`` does), follows that copy as it is
  written, streamed through Redis in the default 32 MiB window, checked and unpacked on
  the client. The time from the result to the last file is shown apart.

The same job without artifacts (exit to result) is shown for scale. The issue's target:
the fleet's row at most 1.5× the ``docker cp`` row.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.env import IMAGE, BenchEnv
from benchmarks.harness import Report, Table, interleaved
from benchmarks.render import show
from benchmarks.workspace import make_folder
from dockfleet.models.jobs import JobSpec

NAME = "artifacts"
MIB = 1024 * 1024
TARGET_RATIO = 1.5


def _docker_cp(env: BenchEnv, folder: Path, out: Path) -> float:
    made = env.docker_cli("create", "--label", f"dockfleet.bench={env.run_id}", IMAGE, "true")
    container = made.stdout.decode().strip()
    copied_in = env.docker_cli("cp", str(folder), f"{container}:/workspace")
    started = time.perf_counter()
    copied = env.docker_cli("cp", f"{container}:/workspace", str(out))
    elapsed = (time.perf_counter() - started) * 1000
    env.docker_cli("rm", "-f", container)
    shutil.rmtree(out, ignore_errors=True)
    if made.returncode or copied_in.returncode or copied.returncode:
        raise RuntimeError(f"docker cp failed: {made.stderr!r} {copied.stderr!r}")
    return elapsed


def _fleet(
    env: BenchEnv, host: str, folder: Path, out: Path | None, tails: list[float] | None = None
) -> float:
    spec = JobSpec(
        container={"image": IMAGE, "cmd": ["true"]},
        host=host,
        network=False,
        workspace=str(folder),
        artifacts=["**"] if out else [],
    )
    handle = env.fleet.run_job(spec)
    fetched: dict[str, Any] = {}
    fetch = None
    if out is not None:  # begun as the job is sent, as an attached `dockfleet run` does

        def download() -> None:
            try:
                env.fleet.download_artifacts(handle.id, out, wait=True)
                fetched["at"] = datetime.now(UTC)
            except Exception as exc:
                fetched["error"] = exc

        fetch = threading.Thread(target=download, name="bench-artifacts")
        fetch.start()
    result = handle.wait(timeout=300)
    reported = datetime.now(UTC)
    if result.status != "succeeded" or result.finished_at is None:
        raise RuntimeError(f"fleet job {result.job_id}: {result.status} {result.error}")
    done = reported
    if fetch is not None and out is not None:
        fetch.join(300)
        if "at" not in fetched:
            raise RuntimeError(f"artifacts of {result.job_id}: {fetched.get('error')!r}")
        done = max(reported, fetched["at"])
        if tails is not None:
            tails.append((done - reported).total_seconds() * 1000)
        shutil.rmtree(out, ignore_errors=True)
    return (done - result.finished_at).total_seconds() * 1000


def run(env: BenchEnv, report: Report) -> None:
    files, size = (64, 128 * 1024) if env.quick else (2000, 100 * 1024)
    with tempfile.TemporaryDirectory(prefix="bench-artifacts-") as tmp:
        root = Path(tmp)
        host = env.host_name("artifacts")
        env.start_worker(host, DOCKFLEET_ARTIFACTS_DIR=str(root / "store"))
        (root / "src").mkdir()
        folder = make_folder(root / "src", files, size)
        megabytes = files * size / MIB
        table = report.table(
            Table(f"{megabytes:.0f} MiB of artifacts ({files} files) out to the client", "ms")
        )
        base = "docker cp out of a stopped container"
        fleet = "fleet: container exit → result and artifacts here"
        plain = "fleet: the same job without artifacts, exit → result"
        tails: list[float] = []
        samples = interleaved(
            {
                base: lambda: _docker_cp(env, folder, root / "cp-out"),
                fleet: lambda: _fleet(env, host, folder, root / "fleet-out", tails),
                plain: lambda: _fleet(env, host, folder, None),
            },
            repeats=env.repeats(3, 1),
        )
        table.add(base, samples[base])
        table.add(fleet, samples[fleet], base, "window 32 MiB")
        recorded = tails[-len(samples[fleet]) :]  # the warmup's is not a sample
        table.add("  of which after the result", recorded, base, "the download's tail")
        table.add(plain, samples[plain], base, "for scale")
        show(table)
        ratio = table.ratio(fleet)
        report.target(
            f"artifacts out ≤ {TARGET_RATIO}× docker cp", f"{ratio:.2f}×", ratio <= TARGET_RATIO
        )
