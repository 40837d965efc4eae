"""Benchmark 9: a job with a warm cache against the same job with a cold one (issue 13).

The job's step fills its cache with 50 MiB (``--quick``: 4 MiB) of 1 MiB files when they
are not there yet, as a step that downloads or unpacks dependencies does, and skips it
when they are (``test -f done || make them``). Interleaved, each timed from
``Fleet.run_job`` to its result:

- cold: a new cache key each time (the host makes the volume, owns it to the job's
  user, and the step writes it all; the volume is removed after, untimed);
- warm: one key whose cache an earlier run filled (the step is skipped);
- no cache: the same step into the container's own layer, for scale.
"""

from __future__ import annotations

import secrets
import time

from benchmarks.env import IMAGE, BenchEnv
from benchmarks.harness import Report, Table, interleaved
from benchmarks.render import show
from dockfleet.models.jobs import JobSpec

NAME = "cache"
#: under /tmp: the job runs as the policy's non-root default user, who may write there
PATH = "/tmp/deps"


def _step(files: int) -> str:
    make = f"for i in $(seq {files}); do head -c 1048576 /dev/urandom > {PATH}/f$i; done"
    return f"mkdir -p {PATH}; test -f {PATH}/done || {{ {make}; touch {PATH}/done; }}"


def _job(env: BenchEnv, host: str, files: int, key: str | None) -> float:
    spec = JobSpec(
        container={"image": IMAGE, "cmd": ["sh", "-c", _step(files)]},
        host=host,
        network=False,
        caches=[f"{key}:{PATH}"] if key else [],
    )
    started = time.perf_counter()
    result = env.fleet.run_job(spec).wait(timeout=300)
    elapsed = (time.perf_counter() - started) * 1000
    if result.status != "succeeded":
        raise RuntimeError(f"fleet job {result.job_id}: {result.status} {result.error}")
    return elapsed


def _cold(env: BenchEnv, host: str, files: int) -> float:
    key = f"bench-cold-{secrets.token_hex(4)}"
    elapsed = _job(env, host, files, key)
    env.fleet.remove_cache(key, host)
    return elapsed


def run(env: BenchEnv, report: Report) -> None:
    host = env.main_host()
    files = 4 if env.quick else 50
    warm_key = f"bench-warm-{env.run_id}"
    _job(env, host, files, warm_key)  # fills it
    table = report.table(Table(f"A job whose step fills {files} MiB of cache, or skips it", "ms"))
    cold, warm, none = "cold cache: the step runs", "warm cache: the step is skipped", "no cache"
    samples = interleaved(
        {
            cold: lambda: _cold(env, host, files),
            warm: lambda: _job(env, host, files, warm_key),
            none: lambda: _job(env, host, files, None),
        },
        repeats=env.repeats(5, 1),
    )
    table.add(cold, samples[cold])
    table.add(warm, samples[warm], cold)
    table.add(none, samples[none], cold, "into the container's layer, for scale")
    show(table)
    env.fleet.remove_cache(warm_key, host)
