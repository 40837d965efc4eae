"""Records engine events live (the engine keeps only its last 256 for later queries)."""

from __future__ import annotations

import threading
from collections import Counter
from types import TracebackType
from typing import Any

import docker


class EventRecorder:
    """Streams container events matching `filters` into memory until closed."""

    def __init__(self, engine: docker.DockerClient, filters: dict[str, Any]) -> None:
        self._stream = engine.events(decode=True, filters={"type": "container", **filters})
        # (pass {"type": "network"} in `filters` to record network events instead)
        self.events: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self._run, name="event-recorder", daemon=True)

    def __enter__(self) -> EventRecorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stream.close()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            for event in self._stream:
                self.events.append(event)
        except Exception:  # closed under our feet: recording is over
            return

    def count(self, action: str) -> Counter[str]:
        """How many `action` events (create, start...) each container name had."""
        return Counter(
            e["Actor"]["Attributes"]["name"] for e in self.events if e.get("Action") == action
        )
