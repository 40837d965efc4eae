"""Supervising a job's container: its log copied, its resources sampled, its end awaited.

The log copy runs in a thread, and its end is the container's exit (a log ends
when its container does), which spares each job a wait call. The watch loop
samples the meter, and stops the container on cancel or at the deadline; it
also notices a lost lease (then this run stops and the adopter goes on).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from dockfleet.errors import EngineError
from dockfleet.models.jobs import JobResult, JobStatus
from dockfleet.redis_retry import retrying
from dockfleet.store import job_records
from worker.engine import containers as engine
from worker.engine.objects import ContainerState
from worker.jobs.job_run import JobRun
from worker.jobs.lease import LeaseLost
from worker.jobs.log_copy import JobLogCopy
from worker.jobs.meter import ResourceMeter

CHECK_SECONDS = 0.25
LOG_DRAIN_SECONDS = 10.0


def supervise(run: JobRun, container: ContainerState) -> JobResult:
    """Copy the log and wait for the exit, stopping the container on cancel or timeout."""
    container_id = container.id
    started_at = run.started_at  # set by this run; an adopted job's is in its state
    if started_at is None:
        fields = retrying(lambda: job_records.read(run.rt.redis, run.job_id), "reading a job")
        started_at = fields.get("started_at")
    began = datetime.fromisoformat(started_at or job_records.now_iso())
    deadline = began.timestamp() + run.spec.timeout
    copy = JobLogCopy(
        run.rt,
        run.job_id,
        run.lease,
        run.spec.secret_values(),
        run.spec.log_limit,
        resume=not run.fresh,
    )
    log_ended = threading.Event()

    def copy_log() -> None:
        try:
            copy.run(container)
        finally:
            log_ended.set()

    copier = threading.Thread(target=copy_log, name="job-log", daemon=True)
    copier.start()
    meter = ResourceMeter(run.rt.docker, container_id).start()
    lost_engine: list[BaseException] = []
    try:
        # A container's log ends when it exits: watching for that end spares every
        # job a wait call and its thread. Only a copy that stopped early (its cap,
        # a broken stream) leaves the container running; then wait for the exit.
        ended_by = _watch(run, container_id, log_ended, deadline, meter)
        final = engine.inspect_state(run.rt.docker, container_id)
        if ended_by is None and final.running:
            exited = _wait_in_thread(run, container_id, lost_engine)
            ended_by = _watch(run, container_id, exited, deadline, meter)
            if not lost_engine:
                final = engine.inspect_state(run.rt.docker, container_id)
    finally:
        meter.stop()
        copier.join(LOG_DRAIN_SECONDS)
        copy.close()
    if isinstance(copy.error, LeaseLost):
        raise copy.error  # adopted meanwhile: the adopter copies the rest, and reports
    if lost_engine:
        raise lost_engine[0]  # translated by execute(): the host is unavailable
    if final.running and ended_by is None:
        raise EngineError(f"the engine of host {run.rt.host!r} lost track of the job")
    peak = meter.peak_memory
    if final.oom_killed:
        # It hit its limit, maybe between two samples: the limit was its peak.
        peak = max(peak, final.memory_limit)
    status: JobStatus = ended_by or (
        "oom_killed" if final.oom_killed else "succeeded" if final.exit_code == 0 else "failed"
    )
    started, finished = final.started_at, final.finished_at
    return run.result(
        status,
        exit_code=final.exit_code,
        started_at=started,
        finished_at=finished,
        # The engine can stamp a very short run as finishing a hair before it started.
        duration=max(0.0, (finished - started).total_seconds()) if started and finished else 0.0,
        peak_memory=peak,
        cpu_seconds=round(meter.cpu_seconds, 3),
        oom_killed=final.oom_killed,
        log_bytes=copy.bytes,
        log_lines=copy.lines,
        log_truncated=copy.truncated,
        error=f"log copy failed: {copy.error}" if copy.error else None,
    )


def _wait_in_thread(
    run: JobRun, container_id: str, lost_engine: list[BaseException]
) -> threading.Event:
    """An event set once the container has exited (or the engine went away mid-wait)."""
    exited = threading.Event()

    def wait_for_exit() -> None:
        try:
            engine.wait_exit(run.rt.docker, container_id)
        except BaseException as exc:  # the engine went away mid-wait
            lost_engine.append(exc)
        finally:
            exited.set()

    threading.Thread(target=wait_for_exit, name="job-wait", daemon=True).start()
    return exited


def _watch(
    run: JobRun, container_id: str, exited: threading.Event, deadline: float, meter: ResourceMeter
) -> JobStatus | None:
    """Wait for the exit, sampling the meter; returns canceled/timed_out when we stopped it."""
    while True:
        meter.tick()
        if exited.wait(CHECK_SECONDS):
            return None
        if run.lease.lost.is_set() and not retrying(run.lease.acquire, "retaking a lease"):
            raise LeaseLost(run.job_id)
        if run.cancel_requested():
            _stop(run, container_id, exited)
            return "canceled"
        if time.time() > deadline:
            _stop(run, container_id, exited)
            return "timed_out"


def _stop(run: JobRun, container_id: str, exited: threading.Event) -> None:
    # SIGTERM, the grace period, then SIGKILL: the engine does all three.
    engine.stop(run.rt.docker, container_id, int(run.spec.stop_grace))
    exited.wait(LOG_DRAIN_SECONDS)
