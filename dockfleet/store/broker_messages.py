"""Sent jobs the broker may have lost: the watch list, its sweep guard, and kombu's messages.

The client adds a job to ``keys.queued_jobs(queue)`` when it sends it
(`job_records.mark_sent`) and the claim removes it. The requeue sweep
(`worker.jobs.requeue`) reads the overdue ones here and asks where their
messages are: in the queue's lists, or delivered (kombu's ``unacked`` hash and
its ``unacked_index`` of delivery times). Those two keys are kombu's Redis
transport's; the store only reads them, and drops a stranded delivery.
"""

from __future__ import annotations

from typing import Any

from dockfleet import keys
from dockfleet.queues import priority_lists
from dockfleet.store.redis_types import Client
from dockfleet.store.scripts import LuaScript

#: kombu's Redis transport defaults (the fleet does not change them)
UNACKED_KEY = "unacked"
UNACKED_INDEX_KEY = "unacked_index"

_LOCATE = LuaScript("broker_locate")


def take_sweep(client: Client, queue: str, holder: str, period_ms: int) -> bool:
    """Claim the sweep of `queue` for `period_ms`; False if another worker swept it within."""
    return bool(client.set(keys.requeue_guard(queue), holder, nx=True, px=period_ms))


def overdue(client: Client, queue: str, sent_before: float, limit: int) -> list[str]:
    """Up to `limit` watched jobs of `queue` sent before `sent_before`, oldest first."""
    found = client.zrangebyscore(keys.queued_jobs(queue), "-inf", sent_before, start=0, num=limit)
    return [str(job_id) for job_id in found]


def unwatch(client: Client, queue: str, job_ids: list[str]) -> None:
    """Stop watching jobs that were claimed, finished or expired since."""
    if job_ids:
        client.zrem(keys.queued_jobs(queue), *job_ids)


def locate(client: Client, queue: str, job_ids: list[str]) -> tuple[set[str], dict[str, str]]:
    """The jobs whose message is in `queue`, and those delivered (id -> delivery tag)."""
    lists = priority_lists(queue)
    answer: Any = _LOCATE(client, [*lists, UNACKED_KEY], job_ids)
    found, pairs = answer
    delivered = {str(pairs[i]): str(pairs[i + 1]) for i in range(0, len(pairs), 2)}
    return {str(job_id) for job_id in found}, delivered


def delivered_at(client: Client, tag: str) -> float | None:
    """When kombu delivered the message of `tag` (None if it holds no such delivery)."""
    at = client.zscore(UNACKED_INDEX_KEY, tag)
    return None if at is None else float(at)


def drop_delivery(client: Client, tag: str) -> None:
    """Forget a stranded delivery, so that kombu does not restore it as a copy later."""
    pipe = client.pipeline(transaction=True)
    pipe.hdel(UNACKED_KEY, tag)
    pipe.zrem(UNACKED_INDEX_KEY, tag)
    pipe.execute()
