"""The job lease record: who may act on a job right now.

Key `keys.job_lease(id)` holds the holder's token with a short TTL; the job's
record keeps ``leased_by``, the token of the last holder, so that a lapsed
lease is retaken only by the worker that held it last (`lua/lease.lua`). A job's
first take is its claim's (`job_records.claim`, one step).
The adoption marker (`keys.job_adopting`) keeps many workers from re-sending
one orphan at once. Writers: the job runner (`worker.jobs.lease`); readers:
adoption, reconcile, cleanup and the network pool.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import redis

from dockfleet import keys
from dockfleet.store import owned_keys
from dockfleet.store.scripts import LuaScript

_TAKE = LuaScript("lease_take", prelude="lease")
_RENEW = LuaScript("lease_renew")
#: held: ours now; taken: another worker's (or was, since we last held it);
#: elsewhere: the job runs on another host
Take = Literal["held", "taken", "elsewhere"]


def take(
    client: redis.Redis, job_id: str, token: str, ttl_ms: int, host: str, *, retake: bool
) -> Take:
    """Hold the job's lease (or keep holding it); see `lua/lease.lua`."""
    answer: Any = _TAKE(
        client,
        [keys.job_lease(job_id), keys.job(job_id)],
        [token, ttl_ms, host, "retake" if retake else "first"],
    )
    return "held" if answer == 1 else "elsewhere" if answer == -1 else "taken"


def renew(client: redis.Redis, job_id: str, token: str, ttl_ms: int, record_ttl: int) -> bool:
    """Extend our hold, and the job record's life with it (one round trip,
    `lua/lease_renew.lua`); False once it is not ours."""
    answer: Any = _RENEW(
        client, [keys.job_lease(job_id), keys.job(job_id)], [token, ttl_ms, record_ttl]
    )
    return bool(answer)


def release(client: redis.Redis, job_id: str, token: str) -> bool:
    return owned_keys.release(client, keys.job_lease(job_id), token)


def live(client: redis.Redis, job_ids: Iterable[str]) -> set[str]:
    """The jobs among `job_ids` that a worker holds a lease on right now."""
    ids = sorted(set(job_ids))
    if not ids:
        return set()
    pipe = client.pipeline(transaction=False)
    for job_id in ids:
        pipe.exists(keys.job_lease(job_id))
    return {job_id for job_id, alive in zip(ids, pipe.execute(), strict=True) if alive}


def mark_adopting(client: redis.Redis, job_id: str, seconds: int) -> bool:
    """Claim the right to re-send an orphaned job for `seconds`; False if another worker did."""
    return bool(client.set(keys.job_adopting(job_id), "1", nx=True, ex=seconds))
