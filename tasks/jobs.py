"""Tasks ``dockfleet.jobs.run``, ``dockfleet.jobs.cancel`` and ``dockfleet.jobs.artifacts``."""

from __future__ import annotations

from typing import Any

from celery.exceptions import Ignore

from dockfleet.errors import InvalidSpec
from dockfleet.models.jobs import JobSpec
from dockfleet.names import check_job_id
from dockfleet.queues import TaskNames
from dockfleet.store import job_records
from dockfleet.validation import parse
from tasks.base import DockerTask, dump
from worker.app import app
from worker.jobs import artifact_folder, runner


class JobTask(DockerTask):
    # A job reports its own failures in its result; the task itself is not retried
    # (a retry would be a second run) and has no time limit (the job has its own).
    max_retries = 0
    soft_time_limit = None  # type: ignore[assignment]
    time_limit = None  # type: ignore[assignment]


# No Celery result: a job's outcome is its record's (`job_records`), stored once, which
# every reader uses; Celery's STARTED and SUCCESS writes cost the runner six Redis round
# trips a job that nobody read. (A sender's ignore_result header says the same.)
@app.task(name=TaskNames.JOB_RUN, base=JobTask, bind=True, ignore_result=True)
def run(self: JobTask, spec: dict[str, Any], job_id: str) -> dict[str, Any]:
    # kombu marks a message it restored (unacknowledged past its visibility timeout).
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    try:  # the job's object names derive from it: only a valid id keeps them its own
        check_job_id(job_id)
    except (TypeError, ValueError) as exc:
        raise InvalidSpec(f"job_id: {exc}") from None
    result = runner.run(self.rt, parse(JobSpec, spec), job_id, redelivered=redelivered)
    if result is None:
        raise Ignore()  # another worker holds the job and reports it, or it is long over
    return dump(result)


@app.task(name=TaskNames.JOB_CANCEL, base=DockerTask, bind=True)
def cancel(self: DockerTask, job_id: str) -> str | None:
    retention = self.rt.settings.retention.results_seconds
    return job_records.request_cancel(self.rt.redis, job_id, retention)


@app.task(name=TaskNames.JOB_ARTIFACTS, base=JobTask, bind=True)
def artifacts(self: JobTask, job_id: str, transfer_id: str) -> None:
    # Streams as long as the client reads; refuses (aborting the transfer) when this
    # worker does not hold the job's tar.
    artifact_folder.send_tar(self.rt, job_id, transfer_id)
