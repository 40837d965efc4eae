"""The routing index's writes, under the name `worker.containers` calls them by.

The index itself (keys, TTL, reads) is `dockfleet.store.routing_index`.
"""

from __future__ import annotations

from dockfleet.store.routing_index import forget, remember

__all__ = ["forget", "remember"]
