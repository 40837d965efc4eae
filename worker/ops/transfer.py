"""Turns the engine's pull and push events into `TransferProgress`: layers done out of known.

Pure bookkeeping (no Docker, no Redis), so that it can be tested on recorded events.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from dockfleet.models import TransferProgress

#: statuses after which a layer needs nothing more
DONE_STATUSES = ("Pull complete", "Already exists", "Pushed", "Layer already exists")
#: byte-count updates are shown at most this often; status changes always
MIN_INTERVAL_SECONDS = 0.2


class TransferTracker:
    """Follows one pull or push, layer by layer."""

    def __init__(self, reference: str, host: str, action: Literal["pull", "push"]) -> None:
        self.reference = reference
        self.host = host
        self.action = action
        self.layers: dict[str, bool] = {}
        self.statuses: dict[str, str] = {}
        self.bytes: dict[str, tuple[int, int]] = {}
        self.digest = ""
        self.size = 0
        self._shown = 0.0

    def update(self, event: dict[str, Any]) -> TransferProgress | None:
        """The progress after `event`, or None when it changed too little to show."""
        status = str(event.get("status") or "")
        layer = event.get("id")
        aux = event.get("aux") or {}
        if aux.get("Digest"):
            self.digest = str(aux["Digest"])
            self.size = int(aux.get("Size") or 0)
        if not status:
            return None
        changed = True
        if layer and not status.startswith("Pulling from"):
            layer = str(layer)
            done = status in DONE_STATUSES or status.startswith("Mounted from")
            changed = self.statuses.get(layer) != status
            self.statuses[layer] = status
            self.layers[layer] = self.layers.get(layer, False) or done
            detail = event.get("progressDetail") or {}
            if detail.get("total"):
                self.bytes[layer] = (int(detail.get("current") or 0), int(detail["total"]))
            if done and layer in self.bytes:
                total = self.bytes[layer][1]
                self.bytes[layer] = (total, total)
        now = time.monotonic()
        if not changed and now - self._shown < MIN_INTERVAL_SECONDS:
            return None
        self._shown = now
        return self.progress(status)

    def progress(self, status: str = "", *, waiting: bool = False) -> TransferProgress:
        return TransferProgress(
            reference=self.reference,
            host=self.host,
            action=self.action,
            status=status,
            layers_done=sum(self.layers.values()),
            layers_total=len(self.layers),
            bytes_done=sum(current for current, _ in self.bytes.values()),
            bytes_total=sum(total for _, total in self.bytes.values()),
            waiting=waiting,
        )
