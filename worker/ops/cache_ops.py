"""Job caches of one host: a named volume per key, mounted by jobs, listed and removed.

A cache is the volume `dockfleet.names.cache_volume(key)`, made on first use with the
fleet's labels and ``dockfleet.cache=<key>``; every job of the host naming the key
mounts it. The fleet knows a cache by that label, never by the name alone: a volume
of that name that someone else made is refused, not used. When a job mounts a cache
its last use is recorded (`dockfleet.store.cache_use`), the order eviction goes by
(`worker.maintenance.cache_gc`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from dockfleet import labels as fleet_labels
from dockfleet.errors import CacheInUse, InvalidSpec
from dockfleet.models import Cache, CacheInfo, ContainerConfig, ImageInfo, RemoveResult
from dockfleet.names import cache_volume, check_cache_key
from dockfleet.store import cache_use
from dockfleet.tar_stream import Owner, folders
from worker.engine import containers, volumes
from worker.engine.objects import Volume
from worker.maintenance.runs import fleet_labels_of_host
from worker.ops import users
from worker.runtime import Runtime


def binds(caches: list[Cache]) -> dict[str, str]:
    """What a job's container binds for its caches: volume name -> container path."""
    return {cache_volume(cache.key): cache.path for cache in caches}


def mount(rt: Runtime, caches: list[Cache]) -> list[str]:
    """The job's caches made sure of (each volume made on first use), their use recorded
    now; returns the container paths of those made by this call (`own` gives them to the
    job's user)."""
    new = []
    for cache in caches:
        name = cache_volume(cache.key)
        # Recorded first: eviction spares a cache used this recently (`cache_gc`), so its
        # volume is not taken between here and the container's create.
        cache_use.touch(rt.redis, rt.host, cache.key)
        made, fresh = volumes.ensure(rt.docker, name, labels(rt, cache.key))
        if not is_cache(made, rt.host, cache.key):
            raise InvalidSpec(
                f"caches: volume {name!r} exists on host {rt.host!r} and is not the fleet's "
                f"cache {cache.key!r}; remove it or choose another key"
            )
        if fresh:
            new.append(cache.path)
    return new


def own(
    rt: Runtime, container_id: str, config: ContainerConfig, image: ImageInfo, paths: list[str]
) -> None:
    """Give the folders of new caches to the job's user, in its created container (a new
    volume's folder is root's, and the job runs as another user by default); `image` is
    the one the container was made from."""
    if not paths:
        return
    owner = Owner(*users.owner_ids(rt, config, image))
    # an iterator: requests reads a list as form fields, not as the chunks of a body
    containers.put_archive(rt.docker, container_id, "/", iter([folders(paths, owner)]))


def labels(rt: Runtime, key: str) -> dict[str, str]:
    """A cache volume's labels: the fleet's, without a job (it outlives them), and its key."""
    return {**fleet_labels.ownership(rt.host), fleet_labels.CACHE: key}


def is_cache(volume: Volume, host: str, key: str) -> bool:
    found = volume.labels
    return (
        volume.managed
        and found.get(fleet_labels.HOST) == host
        and found.get(fleet_labels.CACHE) == key
    )


def listed(rt: Runtime) -> list[Volume]:
    """The cache volumes of this host."""
    return volumes.list_volumes(rt.docker, [*fleet_labels_of_host(rt), fleet_labels.CACHE])


def list_caches(rt: Runtime) -> list[CacheInfo]:
    """Every cache of this host, by key: its size, last use and the running containers
    that mount it."""
    found = listed(rt)
    if not found:
        return []
    sizes = volumes.sizes(rt.docker)
    users = volumes.mounted(rt.docker)
    last = cache_use.last_use(rt.redis, rt.host)
    infos = []
    for volume in found:
        key = volume.labels[fleet_labels.CACHE]
        size = sizes.get(volume.name, -1)
        used = last.get(key)
        infos.append(
            CacheInfo(
                key=key,
                host=rt.host,
                volume=volume.name,
                size=size if size >= 0 else None,
                last_used=datetime.fromtimestamp(used, UTC) if used else None,
                in_use=sorted(users.get(volume.name, [])),
            )
        )
    return sorted(infos, key=lambda i: i.key)


def remove(rt: Runtime, key: str) -> RemoveResult:
    """Remove cache `key` of this host; one already gone is success.

    Raises:
        CacheInUse: a running container mounts it (rule cache-in-use).
        InvalidSpec: the key is not a cache key, or its volume is not the fleet's.
    """
    try:
        name = cache_volume(key)
    except ValueError as exc:
        raise InvalidSpec(f"cache key {key!r}: {exc}") from None
    ours = [v for v in listed(rt) if v.name == name]
    if not ours:
        cache_use.forget(rt.redis, rt.host, check_cache_key(key))
        return RemoveResult(id=name, host=rt.host, removed=False)
    if not is_cache(ours[0], rt.host, key):
        raise InvalidSpec(f"volume {name!r} on host {rt.host!r} is not the fleet's cache {key!r}")
    users = volumes.mounted(rt.docker).get(name)
    if users:
        raise CacheInUse(key, users, rt.host)
    removed = volumes.remove(rt.docker, name)
    cache_use.forget(rt.redis, rt.host, key)
    return RemoveResult(id=name, host=rt.host, removed=removed)
