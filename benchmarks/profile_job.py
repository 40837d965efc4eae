"""Where a fleet job's time goes: the worker's job runner in this process, under pyinstrument.

``python -m benchmarks.profile_job [--docker-host URL] [--network] [--jobs N] [--cpu-only]``
runs N trivial jobs through `worker.jobs.runner.run` (what the
``dockfleet.jobs.run`` task calls) with a private Redis, and prints
pyinstrument's wall-clock tree: time spent waiting on the engine shows as
docker-py calls, time of our own as everything else. Needs ``pip install
pyinstrument``; it is a tool for looking closer, not part of ``make bench``.
"""

from __future__ import annotations

import argparse
import contextlib
import time
import uuid

from benchmarks import direct
from benchmarks.env import docker_url_from_env
from dockfleet import Settings
from dockfleet.models.jobs import JobSpec
from dockfleet.store import job_records
from tests.support.services import RedisServer
from worker.jobs import runner
from worker.runtime import Runtime


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_job")
    parser.add_argument("--docker-host", default=docker_url_from_env())
    parser.add_argument("--network", action="store_true", help="with the per-job network")
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--all", action="store_true", help="show every frame (no hiding)")
    parser.add_argument(
        "--cpu-only", action="store_true", help="no profile: the runner's CPU per job only"
    )
    args = parser.parse_args()
    from pyinstrument import Profiler  # optional: only this tool needs it

    server = RedisServer().start()
    try:
        settings = Settings(
            redis_url=server.url, docker_host=args.docker_host, host_name="profile-job"
        )
        rt = Runtime(settings)
        spec = JobSpec(container=direct.config(["true"]), network=args.network)
        runner.run(rt, *_submitted(rt, spec))  # warm-up: clients, image check
        profiler = Profiler(interval=0.0005)
        cpu = time.process_time()
        with contextlib.nullcontext() if args.cpu_only else profiler:
            for _ in range(args.jobs):
                result = runner.run(rt, *_submitted(rt, spec))
                assert result is not None and result.status == "succeeded", result
        cpu = time.process_time() - cpu  # every thread of this process
        if not args.cpu_only:
            print(profiler.output_text(unicode=True, show_all=args.all))
        note = "" if args.cpu_only else " (the profiler's own included)"
        print(f"runner CPU: {1000 * cpu / args.jobs:.1f} ms per job{note}")
    finally:
        server.stop()


def _submitted(rt: Runtime, spec: JobSpec) -> tuple[JobSpec, str]:
    job_id = uuid.uuid4().hex
    retention = rt.settings.retention.results_seconds
    job_records.submit(rt.redis, job_id, spec.model_dump(mode="json"), rt.host, retention)
    return spec, job_id


if __name__ == "__main__":
    main()
