"""Sends a job's run task again from its stored wire spec (adoption, requeue)."""

from __future__ import annotations

import json

from celery import Celery

from dockfleet.queues import TaskNames


def send_again(app: Celery, job_id: str, spec: str, queue: str, why: str) -> None:
    """Send ``dockfleet.jobs.run`` for `job_id` to `queue` under its own id.

    Flower shows only `why` and the id: the stored spec holds secret values.
    """
    app.send_task(
        TaskNames.JOB_RUN,
        args=[json.loads(spec), job_id],
        queue=queue,
        task_id=job_id,
        argsrepr=f"(<{why} job {job_id}>)",
        ignore_result=True,  # as the client sends it: the job record holds the result
    )
