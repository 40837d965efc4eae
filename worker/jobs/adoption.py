"""Adoption: a job whose worker died is handed to a live worker of the same host.

Every heartbeat, a worker looks at the host's running jobs; one whose lease
has lapsed (its worker stopped renewing it) is re-sent to this host's queue
under its own job id, once per marker period. The worker that takes it finds
the job's containers by name and carries on (see `runner`). The original
message, redelivered by the broker much later, finds the job finished and
returns the stored result.
"""

from __future__ import annotations

import logging

from celery import Celery

from dockfleet.models.jobs import JobResult
from dockfleet.queues import host_queue
from dockfleet.store import job_leases, job_records
from worker.jobs.resend import send_again
from worker.runtime import Runtime

log = logging.getLogger(__name__)
#: one adoption send per job per this many seconds, however many workers look
MARKER_SECONDS = 60


def adopt_orphans(rt: Runtime, app: Celery) -> list[str]:
    """Re-send this host's running jobs that nobody holds; returns their ids."""
    job_ids = job_records.on_host(rt.redis, rt.host)
    if not job_ids:
        return []
    leased = job_leases.live(rt.redis, job_ids)
    found = job_records.states_and_specs(rt.redis, job_ids)
    sent = []
    for job_id, (state, spec) in zip(job_ids, found, strict=True):
        if job_id in leased or state != "running":
            if state in (None, "finished"):
                job_records.forget_on_host(rt.redis, rt.host, job_id)
            continue
        if not job_leases.mark_adopting(rt.redis, job_id, MARKER_SECONDS):
            continue
        if not spec:
            # Nothing to adopt with: report it rather than leave it running forever.
            lost = JobResult(
                job_id=job_id, host=rt.host, status="error", error="worker lost; job not adoptable"
            )
            job_records.finish(rt.redis, job_id, lost, rt.settings.retention.results_seconds)
            continue
        log.warning("adopting job %s on host %s: its worker is gone", job_id, rt.host)
        send_again(app, job_id, spec, host_queue(rt.host), "adopted")
        sent.append(job_id)
    return sent
