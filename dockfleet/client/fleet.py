"""`Fleet`: the Celery-backed twin of the original `DockerManager`.

Every method sends a task by name to the right queue and returns a result
model. A call on an existing container goes to the queue of the host that
holds it (found through `Router`); a create goes to the named host or, with
none named, to the shared queue that any healthy host serves. The methods
live in one mixin per resource; this class only puts them together.
"""

from __future__ import annotations

from dockfleet.client.caches import CachesMixin
from dockfleet.client.containers import ContainersMixin
from dockfleet.client.images import ImagesMixin
from dockfleet.client.jobs import JobsMixin
from dockfleet.client.maintenance import MaintenanceMixin
from dockfleet.client.networks import NetworksMixin
from dockfleet.client.system import SystemMixin


class Fleet(
    ContainersMixin,
    ImagesMixin,
    NetworksMixin,
    JobsMixin,
    SystemMixin,
    MaintenanceMixin,
    CachesMixin,
):
    """Manage containers, images, networks and jobs on every Docker host of a fleet."""

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
