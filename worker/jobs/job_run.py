"""One run of a job on this host: what the provision, supervise and teardown steps share.

A run is the work of one delivery of the job while it holds the job's lease;
an adoption (after a crash, or after Redis came back) is a new run of the same
job, `fresh=False`, that finds what earlier runs made by name.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from dockfleet.models.jobs import JobResult, JobSpec, JobStatus
from dockfleet.redis_retry import UNAVAILABLE, retrying
from dockfleet.store import job_records
from worker.jobs.lease import Lease, LeaseLost
from worker.runtime import Runtime


@dataclass
class JobRun:
    rt: Runtime
    spec: JobSpec
    job_id: str
    lease: Lease
    #: a first run: nothing of the job can exist yet, so nothing is looked up to adopt
    fresh: bool
    #: the job's container was made by an earlier run (set while provisioning)
    adopted: bool = False
    began: float = field(default_factory=time.monotonic)
    #: when this run started the job's container (an adopted job's is in its record)
    started_at: str | None = None
    network: str | None = None
    #: (id, name) of each container this run made, in order
    created: list[tuple[str, str]] = field(default_factory=list)

    def hold(self) -> None:
        """Go on only while the job's lease is ours (retaken if it lapsed unclaimed)."""
        if self.lease.fresh():
            return
        if not retrying(self.lease.acquire, "confirming a job lease"):
            raise LeaseLost(self.job_id)

    def cancel_requested(self) -> bool:
        try:
            return job_records.cancel_requested(self.rt.redis, self.job_id)
        except UNAVAILABLE:
            return False  # Redis is restarting: the job goes on; we look again shortly

    def result(self, status: JobStatus, **fields: Any) -> JobResult:
        return JobResult(
            job_id=self.job_id, host=self.rt.host, status=status, adopted=self.adopted, **fields
        )
