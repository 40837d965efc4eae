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

from celery import Celery

from dockfleet.queues import SHARED_QUEUE, host_queue
from dockfleet.store import broker_messages, job_records
from worker.jobs.resend import send_again
from worker.runtime import Runtime

log = logging.getLogger(__name__)
#: at most one sweep of a queue per this many seconds, by any of its workers (half the
#: grace if that is shorter)
SWEEP_SECONDS = 15.0
#: jobs looked at per sweep, oldest first (a bigger backlog is covered by later sweeps)
BATCH = 200


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
    if not broker_messages.take_sweep(rt.redis, queue, rt.host, period_ms):
        return []  # another worker of the queue swept it within the period
    job_ids = broker_messages.overdue(rt.redis, queue, now - grace, BATCH)
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
    broker_messages.unwatch(rt.redis, queue, done)
    if not waiting:
        return []
    in_queue, delivered = broker_messages.locate(rt.redis, queue, list(waiting))
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


def _stranded(rt: Runtime, tag: str, cutoff: float) -> bool:
    """Delivered before `cutoff` (a grace ago) and still unclaimed: its worker lost it."""
    delivered_at = broker_messages.delivered_at(rt.redis, tag)
    return delivered_at is None or delivered_at < cutoff


def _resend(rt: Runtime, app: Celery, job_id: str, queue: str, spec: str, tag: str | None) -> None:
    log.warning("job %s: its message was lost by the broker; sending it again", job_id)
    if tag is not None:
        # Else kombu restores the stranded copy after its visibility timeout.
        broker_messages.drop_delivery(rt.redis, tag)
    send_again(app, job_id, spec, queue, "requeued")
    # Looked at again only after another grace period.
    job_records.note_requeued(rt.redis, job_id, queue, rt.settings.retention.results_seconds)
