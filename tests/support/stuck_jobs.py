"""Waits for many jobs under one deadline, and says where each one that did not finish is.

A chaos test that only says "timed out" cannot be debugged after the fact (CI
keeps no worker logs): this one reports, per unfinished job, its state hash,
its lease, whether it is watched for requeue, and whether its message is
queued, delivered or nowhere, followed by the worker's warnings.
"""

from __future__ import annotations

import time
from collections import Counter

import redis

from dockfleet import keys
from dockfleet.client.job_handle import JobHandle
from dockfleet.errors import OperationTimeout
from dockfleet.models.jobs import JobResult
from dockfleet.queues import host_queue
from dockfleet.store.broker_messages import locate
from tests.support.services import WorkerProcess

#: what says where a job got to (never ``spec``: it holds the job's secret values)
SHOWN_FIELDS = ("state", "host", "claimed_at", "started_at", "log_lines", "requeued", "cancel")


def wait_all(handles: list[JobHandle], timeout: float) -> tuple[list[JobResult], list[str]]:
    """The results of the jobs that finished within `timeout`, and the ids of the others."""
    deadline = time.monotonic() + timeout
    results, unfinished = [], []
    for handle in handles:
        try:
            results.append(handle.wait(timeout=max(0.1, deadline - time.monotonic())))
        except OperationTimeout:
            unfinished.append(handle.id)
    return results, unfinished


def describe(
    redis_url: str, host: str, job_ids: list[str], worker: WorkerProcess, detailed: int = 10
) -> str:
    """How many of the jobs are in each state now; for the first `detailed` still not
    finished, their state fields, lease, requeue watch and where their message is; then
    the worker's log lines about them and its latest warnings."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        queue = host_queue(host)
        records = {j: client.hgetall(keys.job(j)) for j in job_ids}
        states = Counter(r.get("state", "(no record)") for r in records.values())
        stuck = [j for j, r in records.items() if r.get("state") != "finished"][:detailed]
        queued, delivered = locate(client, queue, stuck)
        lines = [f"states now: {dict(states)}; queue {queue}: {client.llen(queue)} messages"]
        now = time.time()
        for job_id in stuck:
            fields = {k: v for k, v in records[job_id].items() if k in SHOWN_FIELDS}
            watched = client.zscore(keys.queued_jobs(queue), job_id)
            message = (
                "queued"
                if job_id in queued
                else f"delivered ({delivered[job_id]})"
                if job_id in delivered
                else "nowhere"
            )
            lines.append(
                f"job {job_id}: {fields}; lease ttl {client.pttl(keys.job_lease(job_id))} ms; "
                f"host set: {client.sismember(keys.host_jobs(host), job_id)}; "
                f"requeue watch: {'no' if watched is None else f'{now - watched:.0f}s old'}; "
                f"message: {message}"
            )
        if stuck:
            lines += ["worker log about them:", worker.log_lines(*stuck, lines=40)]
        # Apart: a worker's critical lines are few, and the retries' warnings many.
        lines += ["worker's critical lines:", worker.log_lines("CRITICAL/", lines=10)]
        lines += ["worker's last warnings:", worker.log_lines("WARNING/", "ERROR/", lines=30)]
        return "\n".join(lines)
    finally:
        client.close()
