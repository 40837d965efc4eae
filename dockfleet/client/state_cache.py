"""Reads the fleet-wide state cache the workers keep (`dockfleet.store.container_cache`).

A listing answered from Redis costs one round trip for the whole fleet. It is
used only when every host asked has resynced recently; otherwise (or with
``fresh=True``, or for containers the fleet did not create) the hosts are asked.
"""

from __future__ import annotations

import re

from dockfleet.models import ContainerFilter, ContainerInfo
from dockfleet.store import container_cache
from dockfleet.store.redis_types import Client

#: a host's cache is live if rewritten within this many resync intervals
LIVE_INTERVALS = 2.5


def cached_listing(
    client: Client, hosts: list[str], query: ContainerFilter, resync_interval: float
) -> list[ContainerInfo] | None:
    """The matching fleet containers of `hosts` from the cache, or None if it is not live."""
    if query.include_unmanaged or not hosts:
        return None
    found = container_cache.live_summaries(client, hosts, LIVE_INTERVALS * resync_interval)
    return None if found is None else [info for info in found if matches(info, query)]


def matches(info: ContainerInfo, query: ContainerFilter) -> bool:
    """The engine's own filter semantics: statuses ORed, labels ANDed, name a pattern."""
    if query.status and info.status not in query.status:
        return False
    for key, value in query.labels.items():
        if key not in info.labels or (value is not None and info.labels[key] != value):
            return False
    return not query.name or re.search(query.name, info.name) is not None
