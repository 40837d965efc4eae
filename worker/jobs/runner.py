"""Runs one CI job on this host, or adopts it after a worker died, and reports it once.

Why it is exactly once:
- Every object of a job has a name derived from the job id (``dfj-<id>``,
  ``dfj-<id>--svc-<alias>``) and a request label, so a second run of the same job
  finds and adopts them instead of making twins.
- Only the holder of the job's lease acts on it; a delivery that finds the
  lease held elsewhere does nothing (the holder reports; if the holder dies,
  its lease lapses and an adoption re-sends the job: see `adoption`).
- The lease fences the run: it is confirmed before each object is made, and
  the log lines and the outcome are written only while it is ours (checked in
  Redis, atomically with the write). A worker that lost it (paused, or cut off
  from Redis, past its TTL) retakes it only if nobody held it meanwhile; else
  it stops where it is and leaves the job, cleanup included, to its adopter.
- A running job stays on the host that claimed it: a late message of the
  shared queue at another host finds the job ``elsewhere`` and does nothing.
- The log copy resumes from a cursor written atomically with each batch.
- `jobstate.finish` stores the first result only; the outcome is stored before
  cleanup, so a crash after it loses nothing and reconcile removes leftovers.
- A Redis outage is not the job's outcome: state writes are retried, and a
  step cut by the outage is resumed once Redis is back, as an adoption of the
  job by its own worker (what it had made is found by name).
- A message the broker loses before any claim is sent again (`requeue`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import docker

from dockfleet import jobstate, keys
from dockfleet import labels as fleet_labels
from dockfleet.errors import (
    ContainerLimitReached,
    EngineError,
    FleetError,
    InvalidSpec,
    JobCanceled,
    SlotsBusy,
)
from dockfleet.logconfig import event
from dockfleet.models import ContainerConfig, ImageInfo
from dockfleet.models.jobs import JobResult, JobSpec, JobStatus
from dockfleet.names import object_name
from dockfleet.redis_retry import UNAVAILABLE, retrying
from worker import containers
from worker.engine import containers as engine
from worker.engine import networks
from worker.engine.convert import engine_time
from worker.engine.errors import translate
from worker.jobs import images as job_images
from worker.jobs import netpool
from worker.jobs.lease import Lease, LeaseLost
from worker.jobs.log_copy import JobLogCopy
from worker.jobs.meter import ResourceMeter
from worker.jobs.services import wait_ready
from worker.runtime import Runtime

log = logging.getLogger(__name__)
CHECK_SECONDS = 0.25
LOG_DRAIN_SECONDS = 10.0
SLOT_POLL_SECONDS = 0.2
#: a job waits for the host's slot lock this long at a time, then looks at its
#: timeout and its cancel flag, and waits again
SLOT_LOCK_WAIT_SECONDS = 5.0
T = TypeVar("T")


def run(rt: Runtime, spec: JobSpec, job_id: str, *, redelivered: bool = False) -> JobResult | None:
    """Run (or adopt) the job; None when another worker holds it and will report, or when
    a `redelivered` message finds no record of the job (it finished long ago)."""
    retention = rt.settings.retention.results_seconds
    holder, ttl = f"{rt.host}/{os.getpid()}", rt.settings.job_lease_seconds
    lease = Lease(rt.redis, job_id, holder=holder, host=rt.host, ttl=ttl, record_ttl=retention)
    if not retrying(lambda: lease.acquire(retake=False), "taking a job lease"):
        if lease.elsewhere:
            log.info("job %s runs on another host; this delivery is ignored", job_id)
        return None
    with lease:
        claim = retrying(
            lambda: jobstate.claim(
                rt.redis,
                job_id,
                rt.host,
                retention,
                lease_token=lease.token,
                redelivered=redelivered,
            ),
            "claim",
        )
        if claim == "gone":
            log.info("job %s: a late redelivery of a job whose record expired; ignored", job_id)
            return None
        if claim == "elsewhere":
            log.info("job %s runs on another host; this delivery is ignored", job_id)
            return None
        fields = {}
        if claim != "run":  # a first run has no history to read
            fields = retrying(lambda: jobstate.read(rt.redis, job_id), "reading a job")
        if claim == "finished":
            return jobstate.result_of(fields)
        job = JobRun(rt, spec, job_id, lease, fresh=claim == "run")
        # An earlier run may have died between deciding the outcome and reporting it.
        outcome = jobstate.outcome_of(fields)
        if outcome is None:
            resumed = bool(fields.get("started_at"))
            event(
                log,
                "job.adopted" if resumed else "job.started",
                "job %s %s on host %s (image %s)",
                job_id,
                "adopted" if resumed else "started",
                rt.host,
                spec.container.reference,
                host=rt.host,
                job=job_id,
                image=spec.container.reference,
            )
            decided = None
            while decided is None:
                try:
                    decided = job.execute()
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
                lease, lambda: jobstate.record_outcome(rt.redis, job_id, decided, lease.token)
            )
            if recorded is None:
                _left_to_adopter(job_id)
                return None
            outcome = recorded
        # Clean up before reporting, so a caller who got the result finds nothing left;
        # only while the job is still ours (else its adopter may be using what is there).
        if not retrying(lease.acquire, "confirming a job lease"):
            _left_to_adopter(job_id)
            return None
        job.cleanup(outcome)
        final = outcome
        reported = retrying(
            lambda: jobstate.finish(rt.redis, job_id, final, retention), "finishing a job"
        )
        event(
            log,
            "job.finished",
            "job %s finished on host %s: %s (exit %s) in %.2fs",
            job_id,
            rt.host,
            reported.status,
            reported.exit_code,
            reported.duration,
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


class JobRun:
    def __init__(
        self, rt: Runtime, spec: JobSpec, job_id: str, lease: Lease, *, fresh: bool
    ) -> None:
        self.rt = rt
        self.spec = spec
        self.job_id = job_id
        self.lease = lease
        #: a first run: nothing of the job can exist yet, so nothing is looked up to adopt
        self.fresh = fresh
        self.adopted = False
        self.began = time.monotonic()
        self.started_at: str | None = None
        self.network: str | None = None
        #: (id, name) of each container this run made, in order
        self.created: list[tuple[str, str]] = []

    # -- the steps ---------------------------------------------------------------

    def execute(self) -> JobResult:
        try:
            network = self.network = self._network()
            started = [
                (s, self._start(self._service_config(s, network))) for s in self.spec.services
            ]
            wait_ready(self.rt, self.job_id, [(s, doc["Id"]) for s, doc in started])
            doc = self._start(self._job_config(network), is_job=True)
            return self._supervise(doc)
        except (LeaseLost, *UNAVAILABLE):
            raise  # not the job's outcome: run() stops, or resumes once Redis is back
        except JobCanceled as exc:
            return self._result("canceled", error=str(exc))
        except Exception as exc:
            error = translate(exc, self.rt.host) or exc
            if not isinstance(error, FleetError):
                log.exception("job %s failed unexpectedly", self.job_id)
            message = (
                str(error) if isinstance(error, FleetError) else f"{type(exc).__name__}: {exc}"
            )
            return self._result("error", error=message)

    def _network(self) -> str | None:
        if not self.spec.network or self.spec.container.network:
            return self.spec.container.network
        if self.rt.settings.network_pool_size > 0:
            return self._pooled_network()
        name = object_name(self.job_id)
        labels = fleet_labels.ownership(self.rt.host, job=self.job_id)
        self._hold()
        try:
            networks.create(self.rt.docker, name, labels=labels)
        except docker.errors.APIError as exc:
            if exc.status_code != 409:
                raise
            owner = (networks.inspect(self.rt.docker, name).get("Labels") or {}).get(
                fleet_labels.JOB
            )
            if owner != self.job_id:
                raise InvalidSpec(f"network {name!r} exists and is not this job's") from None
        return name

    def _pooled_network(self) -> str:
        """The job's network from the warm pool; after a crash, the one it had already."""
        key = keys.job(self.job_id)
        held = self.rt.redis.hget(key, "network")
        if held:
            return str(held)
        name = netpool.take(self.rt, self.job_id)
        if not self.rt.redis.hsetnx(key, "network", name):
            held = str(self.rt.redis.hget(key, "network"))
            if held != name:  # another run got there first (else: a repeated HSETNX)
                netpool.give_back(self.rt, name)
            return held
        return name

    def _service_config(self, service: Any, network: str | None) -> ContainerConfig:
        if network is None:
            raise InvalidSpec("services: need the job network (network=true) or container.network")
        return service.container.model_copy(  # type: ignore[no-any-return]
            update={
                "name": object_name(self.job_id, service.alias),
                "network": network,
                "network_aliases": [service.alias],
                "labels": {**service.container.labels, **self.spec.labels},
                "request_id": f"{self.job_id}/{service.alias}",
            }
        )

    def _job_config(self, network: str | None) -> ContainerConfig:
        config = self.spec.job_container()
        return config.model_copy(
            update={
                "name": object_name(self.job_id),
                "network": network,
                "labels": {**config.labels, **self.spec.labels},
                "request_id": f"{self.job_id}/job",
            }
        )

    def _start(self, config: ContainerConfig, is_job: bool = False) -> dict[str, Any]:
        """Create (or adopt, when an earlier run made it) and start a container.

        Returns what the rest of the run needs of it (id, TTY, status); a first run
        skips the lookups an adoption needs (every engine call counts in a CI job).
        """
        assert config.name is not None
        self._hold()
        doc = None if self.fresh else self._existing(config.name, is_job)
        if doc is None:
            image = job_images.ensure(self.rt, config.reference, self.spec.pull)
            created = self._create_when_a_slot_frees(config, image)
            self.created.append((created, config.name))
            doc = {"Id": created, "Config": {"Tty": False}, "State": {"Status": "created"}}
        if doc["State"]["Status"] == "created":
            if is_job:
                self.started_at = jobstate.now_iso()
                key, stamp = keys.job(self.job_id), self.started_at
                retrying(lambda: self.rt.redis.hsetnx(key, "started_at", stamp), "start")
            engine.start(self.rt.docker, doc["Id"])
            doc["State"] = {"Status": "running"}
        return doc

    def _hold(self) -> None:
        """Go on only while the job's lease is ours (retaken if it lapsed unclaimed)."""
        if not retrying(self.lease.acquire, "confirming a job lease"):
            raise LeaseLost(self.job_id)

    def _existing(self, name: str, is_job: bool) -> dict[str, Any] | None:
        """The container an earlier run of this job made, if any (to adopt, not duplicate)."""
        try:
            doc = engine.inspect_raw(self.rt.docker, name)
        except docker.errors.NotFound:
            return None
        if (doc["Config"].get("Labels") or {}).get(fleet_labels.JOB) != self.job_id:
            raise InvalidSpec(f"container {name!r} exists and is not this job's")
        self.adopted = self.adopted or is_job
        return doc

    def _create_when_a_slot_frees(self, config: ContainerConfig, image: ImageInfo) -> str:
        """Create the container, waiting (within the job's timeout) while the host is full.

        A full host is a queue, not a failure: CI jobs wait for capacity. So is a host
        whose slot lock other creates hold (a slow engine): the job waits its turn.
        """
        delay = SLOT_POLL_SECONDS
        while True:
            try:
                return containers.create(
                    self.rt, config, job=self.job_id, image=image, slot_wait=SLOT_LOCK_WAIT_SECONDS
                ).id
            except (ContainerLimitReached, SlotsBusy):
                if time.monotonic() - self.began > self.spec.timeout:
                    raise
                if self._cancel_requested():
                    raise JobCanceled(
                        f"job {self.job_id} canceled while waiting for a slot"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 1.5, 2.0)

    def _supervise(self, doc: dict[str, Any]) -> JobResult:
        """Copy the log and wait for the exit, stopping the container on cancel or timeout."""
        container_id = doc["Id"]
        started_at = self.started_at  # set by this run; an adopted job's is in its state
        if started_at is None:
            fields = retrying(lambda: jobstate.read(self.rt.redis, self.job_id), "reading a job")
            started_at = fields.get("started_at")
        began = datetime.fromisoformat(started_at or jobstate.now_iso())
        deadline = began.timestamp() + self.spec.timeout
        copy = JobLogCopy(
            self.rt,
            self.job_id,
            self.lease,
            self.spec.secret_values(),
            self.spec.log_limit,
            resume=not self.fresh,
        )
        log_ended = threading.Event()

        def copy_log() -> None:
            try:
                copy.run(doc)
            finally:
                log_ended.set()

        copier = threading.Thread(target=copy_log, name="job-log", daemon=True)
        copier.start()
        meter = ResourceMeter(self.rt.docker, container_id).start()
        lost_engine: list[BaseException] = []
        try:
            # A container's log ends when it exits: watching for that end spares every
            # job a wait call and its thread. Only a copy that stopped early (its cap,
            # a broken stream) leaves the container running; then wait for the exit.
            ended_by = self._watch(container_id, log_ended, deadline, meter)
            final = engine.inspect_raw(self.rt.docker, container_id)
            if ended_by is None and final["State"].get("Running"):
                exited = self._wait_in_thread(container_id, lost_engine)
                ended_by = self._watch(container_id, exited, deadline, meter)
                if not lost_engine:
                    final = engine.inspect_raw(self.rt.docker, container_id)
        finally:
            meter.stop()
            copier.join(LOG_DRAIN_SECONDS)
            copy.close()
        if isinstance(copy.error, LeaseLost):
            raise copy.error  # adopted meanwhile: the adopter copies the rest, and reports
        if lost_engine:
            raise lost_engine[0]  # translated by execute(): the host is unavailable
        state = final["State"]
        if state.get("Running") and ended_by is None:
            raise EngineError(f"the engine of host {self.rt.host!r} lost track of the job")
        peak = meter.peak_memory
        if state.get("OOMKilled"):
            # It hit its limit, maybe between two samples: the limit was its peak.
            peak = max(peak, (final.get("HostConfig") or {}).get("Memory") or 0)
        status: JobStatus = ended_by or (
            "oom_killed"
            if state.get("OOMKilled")
            else "succeeded"
            if state.get("ExitCode") == 0
            else "failed"
        )
        started, finished = (
            engine_time(state.get("StartedAt")),
            engine_time(state.get("FinishedAt")),
        )
        return self._result(
            status,
            exit_code=state.get("ExitCode"),
            started_at=started,
            finished_at=finished,
            # The engine can stamp a very short run as finishing a hair before it started.
            duration=max(0.0, (finished - started).total_seconds())
            if started and finished
            else 0.0,
            peak_memory=peak,
            cpu_seconds=round(meter.cpu_seconds, 3),
            oom_killed=bool(state.get("OOMKilled")),
            log_bytes=copy.bytes,
            log_lines=copy.lines,
            log_truncated=copy.truncated,
            error=f"log copy failed: {copy.error}" if copy.error else None,
        )

    def _wait_in_thread(
        self, container_id: str, lost_engine: list[BaseException]
    ) -> threading.Event:
        """An event set once the container has exited (or the engine went away mid-wait)."""
        exited = threading.Event()

        def wait_for_exit() -> None:
            try:
                self.rt.docker.api.wait(container_id, timeout=None)
            except BaseException as exc:  # the engine went away mid-wait
                lost_engine.append(exc)
            finally:
                exited.set()

        threading.Thread(target=wait_for_exit, name="job-wait", daemon=True).start()
        return exited

    def _watch(
        self, container_id: str, exited: threading.Event, deadline: float, meter: ResourceMeter
    ) -> JobStatus | None:
        """Wait for the exit, sampling the meter; returns canceled/timed_out when we stopped it."""
        while True:
            meter.tick()
            if exited.wait(CHECK_SECONDS):
                return None
            if self.lease.lost.is_set() and not retrying(self.lease.acquire, "retaking a lease"):
                raise LeaseLost(self.job_id)
            if self._cancel_requested():
                self._stop(container_id, exited)
                return "canceled"
            if time.time() > deadline:
                self._stop(container_id, exited)
                return "timed_out"

    def _cancel_requested(self) -> bool:
        try:
            return self.rt.redis.hget(keys.job(self.job_id), "cancel") == "1"
        except UNAVAILABLE:
            return False  # Redis is restarting: the job goes on; we look again shortly

    def _stop(self, container_id: str, exited: threading.Event) -> None:
        # SIGTERM, the grace period, then SIGKILL: the engine does all three.
        engine.stop(self.rt.docker, container_id, int(self.spec.stop_grace))
        exited.wait(LOG_DRAIN_SECONDS)

    def _result(self, status: JobStatus, **fields: Any) -> JobResult:
        return JobResult(
            job_id=self.job_id, host=self.rt.host, status=status, adopted=self.adopted, **fields
        )

    # -- after the result is stored -----------------------------------------------

    def cleanup(self, result: JobResult) -> None:
        """Remove every container and the network of the job (unless kept for debugging)."""
        if self.spec.keep_on_failure and result.status != "succeeded":
            return
        # A first run knows its network; a rerun looks it up (it may have none of its own).
        known = self.fresh or self.network is not None
        # A first run whose job ran to its exit knows every container it made; any other
        # (an error mid-create may hide one the engine made) lists the job's by label.
        made = self.created if self.fresh and result.status in ("succeeded", "failed") else None
        try:
            remove_job_objects(self.rt, self.job_id, self.network, look_up=not known, made=made)
        except Exception:  # reconcile removes what is left; the result is already safe
            log.warning("cleanup of job %s incomplete", self.job_id, exc_info=True)


def remove_job_objects(
    rt: Runtime,
    job_id: str,
    network: str | None = None,
    *,
    look_up: bool = True,
    made: list[tuple[str, str]] | None = None,
) -> None:
    """Remove the job's containers, then give back or remove its network: the one given,
    or with `look_up` the one it had.

    The containers are the (id, name) pairs `made`, when the caller knows them all;
    otherwise they are found by label (a crash may have left any).
    """
    if made is not None:
        for container_id, name in reversed(made):  # the job first, then its services
            containers.remove_made(rt, container_id, name, job_id)
    else:
        selector = [f"{fleet_labels.JOB}={job_id}", f"{fleet_labels.HOST}={rt.host}"]
        for row in engine.list_summaries(rt.docker, {"label": selector}):
            containers.remove_listed(rt, row)
    if look_up:
        network = str(rt.redis.hget(keys.job(job_id), "network") or object_name(job_id))
    if network is None:
        return
    if netpool.is_pooled(str(network)):
        netpool.give_back(rt, str(network))
        return
    try:
        labels = networks.inspect(rt.docker, network).get("Labels") or {}
    except docker.errors.NotFound:
        return
    if labels.get(fleet_labels.JOB) == job_id:  # never a user's own network
        networks.remove(rt.docker, network)
