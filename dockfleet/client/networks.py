"""Network calls of the client: create (idempotent by name), connect, disconnect, remove, list.

A network lives on one host: calls name it with ``host=``, or use the fleet's
only live host. Connecting a container goes to the host that holds the
container, found like any container call.
"""

from __future__ import annotations

from dockfleet.client.base import FleetBase
from dockfleet.models import (
    NetworkFilter,
    NetworkInfo,
    NetworkOptions,
    RemoveResult,
)
from dockfleet.policy_scope import check_network_create
from dockfleet.queues import TaskNames
from dockfleet.validation import parse


class NetworksMixin(FleetBase):
    def create_network(
        self, name: str, options: NetworkOptions | None = None, host: str | None = None
    ) -> NetworkInfo:
        """Create a network, or get the existing one of that name if its options are the same.

        Raises:
            Conflict: a network of that name exists with other options.
            InvalidSpec: bad options, or overlay on a host that is not in a swarm.
            PolicyViolation: a fleet name, or a driver, option or subnet the policy does
                not allow (before anything is sent).
        """
        options = parse(NetworkOptions, options or {})
        check_network_create(name, options, self.settings.policy)
        args = [name, options.model_dump(mode="json")]
        raw = self._call(TaskNames.NETWORK_CREATE, args, host or self._only_host())
        return NetworkInfo.model_validate(raw)

    def remove_network(self, ref: str, host: str | None = None) -> RemoveResult:
        """Remove a network; one already gone is success, one in use is `NetworkInUse`."""
        raw = self._call(TaskNames.NETWORK_REMOVE, [ref], host or self._only_host())
        return RemoveResult.model_validate(raw)

    def connect_to_network(
        self,
        network: str,
        container: str,
        aliases: list[str] | None = None,
        host: str | None = None,
        ipv4_address: str | None = None,
    ) -> NetworkInfo:
        """Attach a container to a network of its host, reachable there by `aliases` too."""
        target = host or self._router().locate(container)
        args = [network, container, list(aliases or []), ipv4_address]
        return NetworkInfo.model_validate(self._call(TaskNames.NETWORK_CONNECT, args, target))

    def disconnect_from_network(
        self, network: str, container: str, force: bool = False, host: str | None = None
    ) -> NetworkInfo:
        target = host or self._router().locate(container)
        args = [network, container, force]
        return NetworkInfo.model_validate(self._call(TaskNames.NETWORK_DISCONNECT, args, target))

    def inspect_network(self, ref: str, host: str | None = None) -> NetworkInfo:
        raw = self._call(TaskNames.NETWORK_INSPECT, [ref], host or self._only_host())
        return NetworkInfo.model_validate(raw)

    def list_networks(self, query: NetworkFilter | None = None) -> list[NetworkInfo]:
        """Networks of every live host (or of ``query.host``), by host and name."""
        query = parse(NetworkFilter, query or {})
        args = [query.model_dump(mode="json")]
        infos = self._gather(TaskNames.NETWORK_LIST, args, self._targets(query.host), NetworkInfo)
        return sorted(infos, key=lambda i: (i.host, i.name))
