"""The Celery beat schedule (``celery -A worker.app beat``).

Empty until the maintenance tasks (stats sampling, cleanup, reconciliation)
land; they will be built here from `Settings` intervals and switches.
"""

from __future__ import annotations

from typing import Any

from dockfleet.settings import Settings


def build_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """The beat schedule for `settings`; no periodic task exists yet."""
    del settings  # intervals come from settings once maintenance tasks exist
    return {}
