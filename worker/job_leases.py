"""What reconcile and cleanup know about jobs: whether someone runs them, and their state.

The jobs runner writes these (`keys.job`, `keys.job_lease`); maintenance only
reads them. An object of a job whose lease exists is never touched.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis

from dockfleet import keys


def live_leases(client: redis.Redis, job_ids: Iterable[str]) -> set[str]:
    """The jobs among `job_ids` that a worker holds a lease on right now."""
    ids = sorted(set(job_ids))
    if not ids:
        return set()
    pipe = client.pipeline(transaction=False)
    for job_id in ids:
        pipe.exists(keys.job_lease(job_id))
    return {job_id for job_id, alive in zip(ids, pipe.execute(), strict=True) if alive}


def states(client: redis.Redis, job_ids: Iterable[str]) -> dict[str, str]:
    """Each job's ``state`` field; "unknown" when the job has no record."""
    ids = sorted(set(job_ids))
    if not ids:
        return {}
    pipe = client.pipeline(transaction=False)
    for job_id in ids:
        pipe.hget(keys.job(job_id), "state")
    found = pipe.execute()
    return {
        job_id: (state.decode() if isinstance(state, bytes) else state) or "unknown"
        for job_id, state in zip(ids, found, strict=True)
    }
