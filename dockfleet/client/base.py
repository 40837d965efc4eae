"""`FleetBase`: what every part of the client shares — transport, routing, fan-out, hosts.

`Fleet` is assembled from one mixin per resource (containers, system, and the
ones to come), each in its own module, all built on these helpers.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from dockfleet.client.routing import Router
from dockfleet.client.transport import Transport
from dockfleet.errors import ContainerNotFound, InvalidSpec
from dockfleet.models import HostStatus
from dockfleet.queues import host_queue
from dockfleet.settings import Settings
from dockfleet.store.host_records import read_hosts

#: extra seconds a caller waits beyond an operation's own timeout
SLACK_SECONDS = 10.0

M = TypeVar("M", bound=BaseModel)


class FleetBase:
    """Settings, the transport, and the routing every client call goes through."""

    def __init__(self, settings: Settings | None = None, *, url_source: str | None = None) -> None:
        """`url_source` names where the Redis URL came from, for the advice in errors
        (see `Transport`)."""
        self.settings = settings or Settings()
        self.transport = Transport(self.settings, url_source)

    def close(self) -> None:
        self.transport.close()

    def hosts(self) -> list[HostStatus]:
        """Every host that ever heartbeat, with whether it is up now."""
        self.transport.check_redis()
        return read_hosts(self.transport.redis, self.settings.heartbeat_interval)

    def live_hosts(self) -> list[str]:
        return [h.name for h in self.hosts() if h.up]

    def _targets(self, host: str | None) -> list[str]:
        """`host` alone if named, else every live host."""
        return [host] if host else self.live_hosts()

    def _fan_out(
        self, name: str, args: list[Any], hosts: list[str], wait: float | None = None
    ) -> list[Any]:
        """`name` sent to every host of `hosts` at once; their results in that order."""
        timeout = wait or self.settings.default_timeout
        sent = [(h, self.transport.send(name, args, host_queue(h), timeout=timeout)) for h in hosts]
        return [self.transport.wait(r, host_queue(h), timeout) for h, r in sent]

    def _gather(
        self,
        name: str,
        args: list[Any],
        hosts: list[str],
        model: type[M],
        wait: float | None = None,
    ) -> list[M]:
        """`name` on every host of `hosts` at once, each host's list of results as one list."""
        rows = self._fan_out(name, args, hosts, wait)
        return [model.model_validate(r) for per_host in rows for r in per_host]

    def _on_container(
        self, name: str, ref: str, args: list[Any], host: str | None, wait: float | None = None
    ) -> Any:
        """Call `name` on the host that holds `ref`, re-locating once if the index was stale."""
        if host:
            return self._call(name, [ref, *args], host, wait)
        router = self._router()
        target = router.locate(ref)
        try:
            return self._call(name, [ref, *args], target, wait)
        except ContainerNotFound:
            router.forget(ref, target)
            moved = router.search(ref)
            if moved == target:
                raise
            return self._call(name, [ref, *args], moved, wait)

    def _call(self, name: str, args: list[Any], host: str, wait: float | None = None) -> Any:
        return self.transport.call(name, args, host_queue(host), timeout=wait)

    def _router(self) -> Router:
        return Router(self.transport, self.live_hosts())

    def _only_host(self) -> str:
        live = self.live_hosts()
        if len(live) != 1:
            raise InvalidSpec(
                f"host: the fleet has {len(live)} live hosts ({', '.join(live) or 'none'}); "
                "name one"
            )
        return live[0]

    def _grace(self, timeout: int | None) -> float:
        return float(self.settings.default_timeout if timeout is None else timeout)
