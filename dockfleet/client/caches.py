"""Job cache calls of the client: the caches each host keeps, and their removal."""

from __future__ import annotations

from dockfleet.client.base import FleetBase
from dockfleet.errors import InvalidSpec
from dockfleet.models import CacheInfo, RemoveResult
from dockfleet.names import check_cache_key
from dockfleet.queues import TaskNames


class CachesMixin(FleetBase):
    """``dockfleet cache ls|rm``: one named volume per cache key and host."""

    def list_caches(self, host: str | None = None) -> list[CacheInfo]:
        """The caches of `host` (default: every live host), by host and key."""
        infos = self._gather(TaskNames.CACHE_LIST, [], self._targets(host), CacheInfo)
        return sorted(infos, key=lambda i: (i.host, i.key))

    def remove_cache(self, key: str, host: str | None = None) -> list[RemoveResult]:
        """Remove cache `key` from `host` (default: every live host), one result a host.

        Raises:
            CacheInUse: a running container mounts it there (nothing else is removed after).
        """
        try:
            check_cache_key(key)
        except ValueError as exc:
            raise InvalidSpec(f"cache key {key!r}: {exc}") from None
        rows = self._fan_out(TaskNames.CACHE_REMOVE, [key], self._targets(host))
        return [RemoveResult.model_validate(r) for r in rows]
