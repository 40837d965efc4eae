"""Beat's fan-out: one maintenance task per live host, each to that host's own queue.

Kombu's ``Broadcast`` on Redis is a plain PUBLISH, lost when nobody listens;
per-host queues are durable. Each message expires after one interval, so a
host that went down between heartbeats builds no backlog: its worker drops
the expired messages when it comes back. A dispatch of the same kind within
half an interval of the last one is dropped, so a duplicated tick (two beats
during a leadership change, a redelivered message) fans out once.
"""

from __future__ import annotations

from celery import Celery

from dockfleet.models import DispatchResult
from dockfleet.queues import TaskNames, host_queue
from dockfleet.settings import Settings
from dockfleet.store import dispatch_log
from dockfleet.store.host_records import read_hosts
from worker.runtime import Runtime

#: kind -> the task it fans out
KINDS = {
    "sample_stats": TaskNames.SAMPLE_STATS,
    "cleanup": TaskNames.CLEANUP,
    "reconcile": TaskNames.RECONCILE,
}


def interval(settings: Settings, kind: str) -> float:
    """`kind`'s interval in `settings` (beat passes its own; this is the fallback)."""
    return {
        "sample_stats": settings.stats_interval,
        "cleanup": settings.cleanup_interval,
        "reconcile": settings.reconcile_interval,
    }[kind]


def dispatch(rt: Runtime, app: Celery, kind: str, every: float | None = None) -> DispatchResult:
    """Send `kind`'s task to every live host's queue, once per tick of `every` seconds."""
    every = every or interval(rt.settings, kind)
    guard_ms = max(1, int(every * 500))
    if not dispatch_log.claim_tick(rt.redis, kind, guard_ms):
        return DispatchResult(kind=kind, duplicate=True)
    hosts = [h.name for h in read_hosts(rt.redis, rt.settings.heartbeat_interval) if h.up]
    for host in hosts:
        app.send_task(KINDS[kind], queue=host_queue(host), expires=every)
    dispatch_log.record(rt.redis, kind, hosts, rt.host)
    return DispatchResult(kind=kind, hosts=hosts)
