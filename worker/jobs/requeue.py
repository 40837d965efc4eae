"""Requeue: a job whose message the broker lost is sent again, so that it still runs once.

Kombu's Redis transport takes a message off its queue (BRPOP) and records it
as unacknowledged in a second step. A Redis that dies between the two (or
just before its BRPOP reply went out) loses that message, and a worker whose
broker connection drops forgets the messages it had reserved, which Redis
then hides for the whole visibility timeout (an hour). Either way the job
would stay ``queued`` forever: the job's state says it was sent, yet nobody
will claim it.

So the client records each sent job in ``keys.queued_jobs(queue)`` and the
claim removes it. Every heartbeat, one worker of each queue at a time (a guard
key; a host's workers for its queue, any worker for the shared one) looks at
the jobs queued there for longer than a grace period (the setting
``job_requeue_seconds``) and asks Redis, in one script, where their messages
are: still in their queue (fine: they wait
their turn), delivered to a worker (fine while recent; stranded when older
than the grace: dropped from kombu's unacked set so it is not restored as a
copy later), or nowhere (lost). Lost and stranded jobs are sent again under
their own id. A copy sent in error is harmless: the claim, the lease and
`job_records.finish` let one delivery run the job and the others do nothing.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from celery import Celery

from dockfleet import keys
from dockfleet.queues import SHARED_QUEUE, host_queue, priority_lists
from dockfleet.store import job_records
from worker.broker import UNACKED_INDEX_KEY, UNACKED_KEY
from worker.jobs.resend import send_again
from worker.runtime import Runtime

log = logging.getLogger(__name__)
#: at most one sweep of a queue per this many seconds, by any of its workers (half the
#: grace if that is shorter)
SWEEP_SECONDS = 15.0
#: jobs looked at per sweep, oldest first (a bigger backlog is covered by later sweeps)
BATCH = 200

# KEYS: the queue lists, then kombu's unacked hash; ARGV: the job ids looked for.
# Returns the ids found in a queue, and (id, delivery tag) pairs found delivered.
_FIND = """
local wanted = {}
for _, id in ipairs(ARGV) do wanted[id] = true end
local queued, delivered = {}, {}
for i = 1, #KEYS - 1 do
  local size = redis.call('llen', KEYS[i])
  for first = 0, size - 1, 500 do
    for _, raw in ipairs(redis.call('lrange', KEYS[i], first, first + 499)) do
      for id in string.gmatch(raw, '"id": "([^"]+)"') do
        if wanted[id] then queued[#queued + 1] = id end
      end
    end
  end
end
local unacked = redis.call('hgetall', KEYS[#KEYS])
for i = 1, #unacked, 2 do
  for id in string.gmatch(unacked[i + 1], '"id": "([^"]+)"') do
    if wanted[id] then
      delivered[#delivered + 1] = id
      delivered[#delivered + 1] = unacked[i]
    end
  end
end
return {queued, delivered}
"""


def requeue_lost(rt: Runtime, app: Celery) -> list[str]:
    """Send again the jobs of this worker's queues whose message is lost or stranded.

    A worker looks after its host's queue and the shared one, each at most once per
    sweep period across all the workers that share it. Returns the ids sent again.
    """
    resent: list[str] = []
    for queue in (host_queue(rt.host), SHARED_QUEUE):
        resent += _sweep(rt, app, queue)
    return resent


def _sweep(rt: Runtime, app: Celery, queue: str) -> list[str]:
    now, grace = time.time(), rt.settings.job_requeue_seconds
    period_ms = int(1000 * min(SWEEP_SECONDS, grace / 2))
    if not rt.redis.set(keys.requeue_guard(queue), rt.host, nx=True, px=period_ms):
        return []  # another worker of the queue swept it within the period
    watched = keys.queued_jobs(queue)
    job_ids = [
        str(j) for j in rt.redis.zrangebyscore(watched, "-inf", now - grace, start=0, num=BATCH)
    ]
    if not job_ids:
        return []
    waiting: dict[str, str] = {}
    done: list[str] = []  # claimed, finished or expired since
    found = job_records.states_and_specs(rt.redis, job_ids)
    for job_id, (state, spec) in zip(job_ids, found, strict=True):
        if state == "queued" and spec:
            waiting[job_id] = spec
        else:
            done.append(job_id)
    if done:
        rt.redis.zrem(watched, *done)
    if not waiting:
        return []
    in_queue, delivered = locate_messages(rt.redis, queue, list(waiting))
    resent = []
    for job_id, spec in waiting.items():
        if job_id in in_queue:
            continue
        tag = delivered.get(job_id)
        if tag is not None and not _stranded(rt, tag, now - grace):
            continue  # a worker has just taken it: the claim follows
        _resend(rt, app, job_id, queue, spec, tag)
        resent.append(job_id)
    return resent


def locate_messages(
    client: redis.Redis, queue: str, job_ids: list[str]
) -> tuple[set[str], dict[str, str]]:
    """The jobs whose message is in `queue`, and those delivered (id -> delivery tag)."""
    lists = priority_lists(queue)
    answer: Any = client.eval(_FIND, len(lists) + 1, *lists, UNACKED_KEY, *job_ids)
    found, pairs = answer
    delivered = {str(pairs[i]): str(pairs[i + 1]) for i in range(0, len(pairs), 2)}
    return {str(job_id) for job_id in found}, delivered


def _stranded(rt: Runtime, tag: str, cutoff: float) -> bool:
    """Delivered before `cutoff` (a grace ago) and still unclaimed: its worker lost it."""
    delivered_at = rt.redis.zscore(UNACKED_INDEX_KEY, tag)
    return delivered_at is None or float(delivered_at) < cutoff


def _resend(rt: Runtime, app: Celery, job_id: str, queue: str, spec: str, tag: str | None) -> None:
    log.warning("job %s: its message was lost by the broker; sending it again", job_id)
    if tag is not None:
        # Else kombu restores the stranded copy after its visibility timeout.
        pipe = rt.redis.pipeline(transaction=True)
        pipe.hdel(UNACKED_KEY, tag)
        pipe.zrem(UNACKED_INDEX_KEY, tag)
        pipe.execute()
    send_again(app, job_id, spec, queue, "requeued")
    # Looked at again only after another grace period.
    job_records.note_requeued(rt.redis, job_id, queue, rt.settings.retention.results_seconds)
