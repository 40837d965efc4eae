"""How old a fleet object is: by the fleet's own ``dockfleet.created`` label, else the engine's."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from dockfleet import labels as fleet_labels
from worker.engine.convert import engine_time


def created_at(labels: dict[str, str], engine_created: Any) -> float:
    """When the fleet made an object: its ``dockfleet.created`` label, else the engine's time."""
    label = labels.get(fleet_labels.CREATED)
    if label:
        try:
            return datetime.fromisoformat(label).timestamp()
        except ValueError:
            pass
    if isinstance(engine_created, int | float):
        return float(engine_created)
    when = engine_time(engine_created) if isinstance(engine_created, str) else None
    return when.timestamp() if when else time.time()
