"""Image eviction of one host: least recently used fleet images first, between watermarks.

"Last use" is what the fleet recorded (`dockfleet.store.image_use`: every stats sweep
and every create touch the images of the host's containers), not the image's
creation date. Eviction starts only when usage passes the high watermark and
stops once the projected usage is under the low one (`watermarks`). Never removed: an image
any container uses (the fleet's or not), a pinned one, one younger than the
minimum age, one without ``dockfleet.managed=true`` and this host's
``dockfleet.host`` label (the fleet labels what it builds; a pulled image
carries no labels and is left to its owner).
"""

from __future__ import annotations

import fnmatch

from dockfleet.models import CleanupReport, ImageInfo, RemovedObject
from dockfleet.store import image_use
from worker.engine import images as engine_images
from worker.engine import inventory
from worker.maintenance.ages import created_at
from worker.maintenance.runs import fleet_labels_of_host
from worker.maintenance.watermarks import Candidate, measure, oldest_first
from worker.runtime import Runtime


def plan(rt: Runtime, now: float, report: CleanupReport) -> list[RemovedObject]:
    """The images to evict now, oldest last use first; sets the report's usage figures."""
    layers, freed = inventory.image_sizes(rt.docker)
    pressure = measure(rt, layers, report)
    if pressure is None:
        return []
    settings = rt.settings.cleanup
    in_use = inventory.all_container_images(rt.docker)
    last_use = image_use.last_use(rt.redis, rt.host)
    candidates = []
    owned = {"label": fleet_labels_of_host(rt)}
    for image in engine_images.list_images(rt.docker, rt.host, owned):
        engine_created = image.created.timestamp() if image.created else None
        created = created_at(image.labels, engine_created)
        if image.id in in_use or pinned(image, settings.image_pins):
            continue
        if now - created < settings.image_min_age:
            continue
        size = freed.get(image.id, image.size)
        candidates.append(Candidate(last_use.get(image.id, created), size, image))
    return [
        RemovedObject(
            kind="image",
            id=c.item.id,
            name=", ".join(c.item.tags),
            reason=f"last used {now - c.used_at:.0f}s ago; {pressure.basis} use over the "
            "high watermark",
            size=c.size,
        )
        for c in oldest_first(pressure, candidates)
    ]


def pinned(image: ImageInfo, pins: list[str]) -> bool:
    refs = [*image.tags, image.id]
    return any(fnmatch.fnmatch(ref, pin) for ref in refs for pin in pins)


def remove(rt: Runtime, item: RemovedObject) -> None:
    """Untag every tag, then the id (never forced: an image in use stays)."""
    for tag in filter(None, item.name.split(", ")):
        inventory.remove_image(rt.docker, tag)
    inventory.remove_image(rt.docker, item.id)
    image_use.forget(rt.redis, rt.host, item.id)
