"""Reads the fleet-wide state cache the workers keep (see `worker.state_cache`).

A listing answered from Redis costs one round trip for the whole fleet. It is
used only when every host asked has resynced recently; otherwise (or with
``fresh=True``, or for containers the fleet did not create) the hosts are asked.
"""

from __future__ import annotations

import re
import time
from typing import Any

import redis

from dockfleet import keys
from dockfleet.models import ContainerFilter, ContainerInfo

#: a host's cache is live if rewritten within this many resync intervals
LIVE_INTERVALS = 2.5


def cached_listing(
    client: redis.Redis, hosts: list[str], query: ContainerFilter, resync_interval: float
) -> list[ContainerInfo] | None:
    """The matching fleet containers of `hosts` from the cache, or None if it is not live."""
    if query.include_unmanaged or not hosts:
        return None
    pipe = client.pipeline(transaction=False)
    for host in hosts:
        pipe.get(keys.state_synced(host))
        pipe.hvals(keys.state_containers(host))
    answers: list[Any] = pipe.execute()
    now = time.time()
    found = []
    for index in range(len(hosts)):
        synced, rows = answers[2 * index], answers[2 * index + 1]
        if synced is None or now - float(synced) > LIVE_INTERVALS * resync_interval:
            return None
        found += [ContainerInfo.model_validate_json(row) for row in rows]
    return [info for info in found if matches(info, query)]


def matches(info: ContainerInfo, query: ContainerFilter) -> bool:
    """The engine's own filter semantics: statuses ORed, labels ANDed, name a pattern."""
    if query.status and info.status not in query.status:
        return False
    for key, value in query.labels.items():
        if key not in info.labels or (value is not None and info.labels[key] != value):
            return False
    return not query.name or re.search(query.name, info.name) is not None
