"""Job calls of the client: `run_job` and handles to jobs by id."""

from __future__ import annotations

import contextlib
import logging
import uuid

from dockfleet.client.base import FleetBase
from dockfleet.client.job_handle import JobHandle
from dockfleet.errors import BrokerUnavailable, InvalidSpec
from dockfleet.models.jobs import JobSpec
from dockfleet.policy import check_container
from dockfleet.policy_model import SecurityPolicy
from dockfleet.queues import TaskNames, job_queue
from dockfleet.redis_retry import UNAVAILABLE
from dockfleet.store import job_records
from dockfleet.validation import parse

log = logging.getLogger(__name__)


def check_job(spec: JobSpec, policy: SecurityPolicy) -> None:
    """Apply the policy to every container of a job, as the producer does before sending.

    Raises:
        PolicyViolation: for the first rule a container breaks.
    """
    for config in [spec.job_container(), *(s.container for s in spec.services)]:
        check_container(config, policy)


class JobsMixin(FleetBase):
    """Run CI jobs on the fleet."""

    def run_job(self, spec: JobSpec) -> JobHandle:
        """Submit a job; it runs on `spec.host` or on whichever live host takes it.

        Raises:
            InvalidSpec, PolicyViolation: before anything is sent.
        """
        spec = parse(JobSpec, spec)
        check_job(spec, self.settings.policy)
        job_id = spec.job_id or uuid.uuid4().hex
        spec = spec.model_copy(update={"job_id": job_id})
        if not spec.host and not self.live_hosts():
            raise self.transport.no_live_host()
        wire = spec.model_dump(mode="json", context={"reveal_secrets": True})
        retention = self.settings.retention.results_seconds
        if not job_records.submit(self.transport.redis, job_id, wire, spec.host, retention):
            raise InvalidSpec(f"job_id: {job_id!r} is already used")
        shown = repr([spec.model_dump(mode="json"), job_id])  # Flower's view: secrets masked
        queue = job_queue(spec.host)
        handle = JobHandle(self.transport, job_id)
        try:
            self.transport.send(
                TaskNames.JOB_RUN,
                [wire, job_id],
                queue,
                timeout=None,
                argsrepr=shown,
                task_id=job_id,
            )
        except BrokerUnavailable:
            # The caller is told it failed, so it must never run: a message that did get
            # through finds the job finished (canceled) and does nothing.
            with contextlib.suppress(*UNAVAILABLE):
                handle.cancel()
            raise
        try:
            job_records.mark_sent(self.transport.redis, job_id, queue)
        except UNAVAILABLE:  # sent all the same; only the watch for a lost message is missing
            log.warning("job %s sent, but Redis went away before it was marked sent", job_id)
        return handle

    def job(self, job_id: str) -> JobHandle:
        """A handle to a job submitted earlier (by anyone)."""
        handle = JobHandle(self.transport, job_id)
        if not handle.state:
            raise InvalidSpec(f"job: no such job {job_id!r} (unknown or expired)")
        return handle

    def is_job(self, ref: str) -> bool:
        return bool(JobHandle(self.transport, ref).state)

    def cancel_job(self, job_id: str) -> str | None:
        return self.job(job_id).cancel()
