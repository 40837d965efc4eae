"""One connection pool per engine socket, not one per request URL.

docker-py's `UnixHTTPAdapter` keys its connection pools by the whole request
URL, so ``/containers/<id>/start``, ``/containers/<id>/json`` and every other
call of every container opened a pool and a socket of its own, and closed
another pool past 25: py-spy put ~15% of the worker's CPU per job in making
pools and connections. All requests go to the same socket, so here they share
one pool, and a connection is reused while the engine keeps it alive.
"""

from __future__ import annotations

from typing import Any

from docker.transport import UnixHTTPAdapter

_ONE_POOL = "http+docker://localhost"


class SharedUnixPoolAdapter(UnixHTTPAdapter):
    def get_connection(self, url: Any, proxies: Any = None) -> Any:
        return super().get_connection(_ONE_POOL, proxies)


def share_one_pool(api: Any) -> None:
    """Give a unix-socket `docker.APIClient` the shared pool (other transports pool by host
    already)."""
    old = getattr(api, "_custom_adapter", None)
    if not isinstance(old, UnixHTTPAdapter):
        return
    adapter = SharedUnixPoolAdapter(
        "http+unix://" + old.socket_path, old.timeout, max_pool_size=old.max_pool_size
    )
    old.close()
    # docker-py falls back to `_custom_adapter` for URLs that match no mount.
    api._custom_adapter = adapter
    api.mount("http+docker://", adapter)
