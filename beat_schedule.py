"""The Celery beat schedule (``celery -A worker.app beat``), built from `Settings`.

Each entry sends ``dockfleet.maintenance.dispatch`` to the maintenance queue;
the dispatch fans the real task out to every live host's own queue (see
`worker.process.dispatch`), so every Docker host is sampled, cleaned and reconciled
each interval. Each message expires after one interval: a tick nobody took
in time is not worth running late.
"""

from __future__ import annotations

from typing import Any

from dockfleet.queues import MAINTENANCE_QUEUE, TaskNames
from dockfleet.settings import Settings


def build_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """The beat schedule for `settings`: one dispatch entry per enabled maintenance kind."""
    kinds = []
    if settings.enable_monitoring:
        kinds.append(("sample_stats", settings.stats_interval))
    if settings.enable_auto_cleanup:
        kinds.append(("cleanup", settings.cleanup_interval))
    if settings.enable_reconcile:
        kinds.append(("reconcile", settings.reconcile_interval))
    return {
        f"dockfleet.{kind}": {
            "task": TaskNames.MAINTENANCE_DISPATCH,
            "schedule": every,
            # The interval travels with the tick: it sets the fan-out's expiry.
            "args": (kind, every),
            "options": {"queue": MAINTENANCE_QUEUE, "expires": every},
        }
        for kind, every in kinds
    }
