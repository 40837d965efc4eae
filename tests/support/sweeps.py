"""Stats sweeps in tests: a running container to sample, and a host's sweep sent now."""

from __future__ import annotations

from typing import Any

from dockfleet import ContainerConfig, ContainerInfo, Fleet
from dockfleet.queues import TaskNames, host_queue
from tests.support.planting import TEST_IMAGE


def running_container(fleet: Fleet, host: str) -> ContainerInfo:
    """A ``sleep 300`` container made and started through the fleet on `host`."""
    info = fleet.create_container(
        ContainerConfig(image=TEST_IMAGE, cmd=["sleep", "300"]), host=host
    )
    fleet.start_container(info.id)
    return info


def sweep(fleet: Fleet, host: str) -> Any:
    """The stats sweep of `host`, sent through its queue as beat sends it; the task's result."""
    return fleet.transport.call(TaskNames.SAMPLE_STATS, [], host_queue(host))
