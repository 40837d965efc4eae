"""Runs one CI job on this host, or adopts it after a worker died, and reports it once.

The protocol, step by step (`run`):
1. Take the job's lease (`lease`, `dockfleet.store.job_leases`) and claim the job
   (`dockfleet.store.job_records.claim`), in one step: a delivery that finds the
   lease held does nothing (the holder reports); else a first run, a rerun
   (redelivery or adoption), already finished (return the stored result), or
   running on another host (do nothing).
2. Renew the lease while the run goes on (`worker.process.keeper`).
3. Unless an earlier run already decided the outcome: provision (`provision`:
   network, services until ready, the job's container) and supervise
   (`supervise`: log copy, meter, cancel and deadline) until the container ends.
4. Record the outcome, fenced by the lease (the first one counts).
5. Tear down (`teardown`: the job's artifacts copied out, its objects removed) while
   the lease is still ours, then finish: the result, the log's end marker and the
   lease let go in one transaction (the first result counts).

Why it is exactly once:
- Every object of a job has a name derived from the job id (``dfj-<id>``,
  ``dfj-<id>--svc-<alias>``) and a request label, so a second run of the same job
  finds and adopts them instead of making twins.
- Only the holder of the job's lease acts on it; if the holder dies, its lease
  lapses and an adoption re-sends the job (`adoption`).
- The lease fences the run: it is confirmed before each object is made, and
  the log lines and the outcome are written only while it is ours (checked in
  Redis, atomically with the write). A worker that lost it (paused, or cut off
  from Redis, past its TTL) retakes it only if nobody held it meanwhile; else
  it stops where it is and leaves the job, cleanup included, to its adopter.
- A running job stays on the host that claimed it.
- The log copy resumes from a cursor written atomically with each batch (`log_copy`).
- The outcome is stored before cleanup, so a crash after it loses nothing and
  reconcile removes leftovers.
- A Redis outage is not the job's outcome: state writes are retried, and a
  step cut by the outage is resumed once Redis is back, as an adoption of the
  job by its own worker (what it had made is found by name).
- A message the broker loses before any claim is sent again (`requeue`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TypeVar

from dockfleet.errors import FleetError, JobCanceled
from dockfleet.logconfig import event
from dockfleet.models.jobs import JobResult, JobSpec
from dockfleet.redis_retry import UNAVAILABLE, retrying
from dockfleet.store import job_records
from worker.engine.errors import translate
from worker.jobs import teardown
from worker.jobs.job_run import JobRun
from worker.jobs.lease import Lease, LeaseLost
from worker.jobs.provision import provision
from worker.jobs.supervise import supervise
from worker.runtime import Runtime

log = logging.getLogger(__name__)
T = TypeVar("T")


def run(rt: Runtime, spec: JobSpec, job_id: str, *, redelivered: bool = False) -> JobResult | None:
    """Run (or adopt) the job; None when another worker holds it and will report, or when
    a `redelivered` message finds no record of the job (it finished long ago)."""
    retention = rt.settings.retention.results_seconds
    holder, ttl = f"{rt.host}/{os.getpid()}", rt.settings.job_lease_seconds
    lease = Lease(rt.redis, job_id, holder=holder, host=rt.host, ttl=ttl, record_ttl=retention)
    claim = retrying(lambda: lease.claim(redelivered=redelivered), "claim")
    if claim == "taken":
        return None  # another worker holds the job, and reports it
    if claim == "elsewhere":
        log.info("job %s runs on another host; this delivery is ignored", job_id)
        return None
    with lease:
        if claim == "gone":
            log.info("job %s: a late redelivery of a job whose record expired; ignored", job_id)
            return None
        fields = {}
        if claim != "run":  # a first run has no history to read
            fields = retrying(lambda: job_records.read(rt.redis, job_id), "reading a job")
        if claim == "finished":
            return job_records.result_of(fields)
        job = JobRun(rt, spec, job_id, lease, fresh=claim == "run")
        # An earlier run may have died between deciding the outcome and reporting it.
        outcome = job_records.outcome_of(fields)
        if outcome is None:
            resumed = bool(fields.get("started_at"))
            event(
                log,
                "job.adopted" if resumed else "job.started",
                "job {job} {_verb} on host {host} (image {image})",
                _verb="adopted" if resumed else "started",
                host=rt.host,
                job=job_id,
                image=spec.container.reference,
            )
            decided = None
            while decided is None:
                try:
                    decided = _execute(job)
                except LeaseLost:
                    _left_to_adopter(job_id)
                    return None
                except UNAVAILABLE as exc:
                    # Redis went away mid-setup: nothing is lost, so wait for it and go on
                    # as an adoption of our own job (what exists is found by name).
                    log.warning("job %s paused, Redis is unavailable: %s", job_id, exc)
                    retrying(rt.redis.ping, "waiting for Redis")
                    if not retrying(lease.acquire, "retaking a lease"):
                        _left_to_adopter(job_id)
                        return None
                    job = JobRun(rt, spec, job_id, lease, fresh=False)
            recorded = _fenced(
                lease, lambda: job_records.record_outcome(rt.redis, job_id, decided, lease.token)
            )
            if recorded is None:
                _left_to_adopter(job_id)
                return None
            outcome = recorded
        # Clean up before reporting, so a caller who got the result finds nothing left;
        # only while the job is still ours (else its adopter may be using what is there).
        try:
            job.hold()
        except LeaseLost:
            _left_to_adopter(job_id)
            return None
        final = teardown.cleanup(job, outcome)
        reported = retrying(lambda: lease.finish(final), "finishing a job")
        event(
            log,
            "job.finished",
            "job {job} finished on host {host}: {status} (exit {exit_code}) in {duration:.2f}s",
            host=rt.host,
            job=job_id,
            status=reported.status,
            exit_code=reported.exit_code,
            duration=reported.duration,
            error=reported.error,
        )
        return reported


def _left_to_adopter(job_id: str) -> None:
    log.warning(
        "job %s: another worker adopted it while this one was away (paused, or cut off "
        "from Redis past its lease); this one stops here and that one reports",
        job_id,
    )


def _fenced(lease: Lease, write: Callable[[], T | None]) -> T | None:
    """A write that lands only while `lease` is ours: retried once after retaking a lease
    that lapsed with nobody else taking it; None when another worker has the job."""
    done = retrying(write, "writing a job's state")
    if done is None and retrying(lease.acquire, "retaking a lease"):
        done = retrying(write, "writing a job's state")
    return done


def _execute(job: JobRun) -> JobResult:
    """Provision and supervise the job: its outcome, whatever went wrong in the job."""
    try:
        return supervise(job, provision(job))
    except (LeaseLost, *UNAVAILABLE):
        raise  # not the job's outcome: run() stops, or resumes once Redis is back
    except JobCanceled as exc:
        return job.result("canceled", error=str(exc))
    except Exception as exc:
        error = translate(exc, job.rt.host) or exc
        if not isinstance(error, FleetError):
            log.exception("job %s failed unexpectedly", job.job_id)
        message = str(error) if isinstance(error, FleetError) else f"{type(exc).__name__}: {exc}"
        return job.result("error", error=message)
