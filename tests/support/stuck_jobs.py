"""Waits for many jobs under one deadline, and says where each one that did not finish is.

A chaos test that only says "timed out" cannot be debugged after the fact (CI
keeps no worker logs): this one reports, per unfinished job, its state hash,
its lease, whether it is watched for requeue, and whether its message is
queued, delivered or nowhere, followed by the worker's warnings.
"""

from __future__ import annotations

import time

import redis

from dockfleet import keys
from dockfleet.client.job_handle import JobHandle
from dockfleet.errors import OperationTimeout
from dockfleet.models.jobs import JobResult
from dockfleet.queues import host_queue
from worker.jobs.requeue import locate_messages


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


def describe(redis_url: str, host: str, job_ids: list[str]) -> str:
    """Where each job is: state, lease, requeue watch and message, one block per job."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        queue = host_queue(host)
        queued, delivered = locate_messages(client, queue, job_ids)
        now, blocks = time.time(), []
        for job_id in job_ids:
            fields = client.hgetall(keys.job(job_id))
            fields.pop("spec", None)  # holds the job's secret values
            watched = client.zscore(keys.queued_jobs(queue), job_id)
            message = (
                "queued"
                if job_id in queued
                else f"delivered ({delivered[job_id]})"
                if job_id in delivered
                else "nowhere"
            )
            blocks.append(
                f"job {job_id}: {fields}\n"
                f"  lease: {client.get(keys.job_lease(job_id))!r}, "
                f"ttl {client.pttl(keys.job_lease(job_id))} ms; "
                f"host set: {client.sismember(keys.host_jobs(host), job_id)}; "
                f"requeue watch: {'no' if watched is None else f'{now - watched:.0f}s old'}; "
                f"message: {message}"
            )
        blocks.append(f"queue {queue}: {client.llen(queue)} messages")
        return "\n".join(blocks)
    finally:
        client.close()
