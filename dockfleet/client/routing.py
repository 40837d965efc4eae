"""Finds the host that holds a container, so the call goes to that host's queue.

First the index the workers keep (id, short id, name -> hosts); failing that,
an inspect fanned out to every live host. A ref that matches on several hosts
is an error that asks for ``--host``, never a guess.
"""

from __future__ import annotations

from dockfleet.client.transport import Transport
from dockfleet.errors import AmbiguousReference, ContainerNotFound, FleetError
from dockfleet.queues import TaskNames, host_queue
from dockfleet.store import routing_index


class Router:
    def __init__(self, transport: Transport, live_hosts: list[str]) -> None:
        self.transport = transport
        self.live_hosts = live_hosts

    def locate(self, ref: str) -> str:
        indexed = routing_index.hosts_of(self.transport.redis, ref)
        if len(indexed) == 1:
            return indexed[0]
        if len(indexed) > 1:
            raise AmbiguousReference(ref, indexed)
        return self.search(ref)

    def forget(self, ref: str, host: str) -> None:
        routing_index.forget_ref(self.transport.redis, ref, host)

    def search(self, ref: str) -> str:
        """Ask every live host at once whether it holds `ref`."""
        if not self.live_hosts:
            raise self.transport.no_live_host()
        timeout = self.transport.settings.default_timeout
        pending = {
            host: self.transport.send(TaskNames.INSPECT, [ref], host_queue(host), timeout=timeout)
            for host in self.live_hosts
        }
        found = []
        for host, result in pending.items():
            try:
                self.transport.wait(result, host_queue(host), timeout)
            except ContainerNotFound:
                continue
            except FleetError:
                continue  # an unreachable host cannot be the one; others may answer
            found.append(host)
        if not found:
            raise ContainerNotFound(ref)
        if len(found) > 1:
            raise AmbiguousReference(ref, found)
        return found[0]
