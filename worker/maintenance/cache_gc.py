"""Job cache eviction of one host: least recently used caches first, between watermarks.

Part of a cleanup run, after the images, under the same watermarks (`watermarks`),
counting what the planned images free: only on the disk basis (an image budget counts
image layers, which no cache frees). "Last
use" is when a job last mounted the cache (`dockfleet.store.cache_use`), else the
volume's creation. Never evicted: a cache that any container mounts, as the engine
sees it now (running or not: a created job container holds its caches too), or one
used within `MOUNT_GRACE` (a job between recording its use and creating its
container). A removal is never forced, so one mounted since the plan stays.
"""

from __future__ import annotations

from dockfleet import labels as fleet_labels
from dockfleet.models import CleanupReport, RemovedObject
from dockfleet.store import cache_use
from worker.engine import volumes
from worker.maintenance.ages import created_at
from worker.maintenance.watermarks import Candidate, measure, oldest_first
from worker.ops import cache_ops
from worker.runtime import Runtime

#: seconds a cache stays safe after a job recorded its use, before its container holds it
MOUNT_GRACE = 600.0


def plan(
    rt: Runtime, now: float, report: CleanupReport, images: list[RemovedObject]
) -> list[RemovedObject]:
    """The caches to evict now, oldest last use first, counting the bytes the planned
    `images` free."""
    if rt.settings.cleanup.image_budget_bytes:
        return []  # the budget counts image layers: no cache brings it down
    listed = cache_ops.listed(rt)
    if not listed:
        return []
    pressure = measure(rt, 0, report)
    if pressure is None:
        return []
    pressure.used -= sum(image.size for image in images)
    mounted = volumes.mounted(rt.docker, running_only=False)
    sizes = volumes.sizes(rt.docker)
    last_use = cache_use.last_use(rt.redis, rt.host)
    candidates = []
    for volume in listed:
        key = volume.labels[fleet_labels.CACHE]
        used_at = last_use.get(key) or created_at(volume.labels, None)
        if volume.name in mounted or now - used_at < MOUNT_GRACE:
            continue
        candidates.append(Candidate(used_at, max(sizes.get(volume.name, 0), 0), volume))
    return [
        RemovedObject(
            kind="cache",
            id=c.item.name,
            name=c.item.labels[fleet_labels.CACHE],
            reason=f"last used {now - c.used_at:.0f}s ago; disk use over the high watermark",
            size=c.size,
        )
        for c in oldest_first(pressure, candidates)
    ]


def remove(rt: Runtime, item: RemovedObject) -> None:
    """Remove an evicted cache's volume (never forced: one mounted since stays)."""
    volumes.remove(rt.docker, item.id)
    cache_use.forget(rt.redis, rt.host, item.name)
