"""Tasks ``dockfleet.maintenance.*``: beat's dispatch and the per-host upkeep it fans out.

Periodic work is not retried: the next tick comes within one interval, and a
retry would only stack up behind it.
"""

from __future__ import annotations

from typing import Any

from dockfleet.errors import InvalidSpec
from dockfleet.queues import TaskNames
from tasks.base import DockerTask, dump
from worker.app import app
from worker.maintenance import cleanup, reconcile, stats_sweep
from worker.process.dispatch import KINDS, dispatch

Json = dict[str, Any]


class MaintenanceTask(DockerTask):
    max_retries = 0
    soft_time_limit = 600
    time_limit = 660


@app.task(name=TaskNames.MAINTENANCE_DISPATCH, base=MaintenanceTask, bind=True)
def dispatch_(self: MaintenanceTask, kind: str, every: float | None = None) -> Json:
    if kind not in KINDS:
        raise InvalidSpec(f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    return dump(dispatch(self.rt, app, kind, every))


@app.task(name=TaskNames.SAMPLE_STATS, base=MaintenanceTask, bind=True)
def sample_stats(self: MaintenanceTask) -> Json:
    return dump(stats_sweep.sweep(self.rt))


@app.task(name=TaskNames.CLEANUP, base=MaintenanceTask, bind=True)
def cleanup_(self: MaintenanceTask, dry_run: bool = False) -> Json:
    return dump(cleanup.run(self.rt, dry_run=dry_run))


@app.task(name=TaskNames.RECONCILE, base=MaintenanceTask, bind=True)
def reconcile_(self: MaintenanceTask, dry_run: bool = False) -> Json:
    return dump(reconcile.run(self.rt, dry_run=dry_run))
