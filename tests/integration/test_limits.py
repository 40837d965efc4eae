"""max_containers per host holds across worker processes; a repeated create adopts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import docker
import pytest

from dockfleet import ContainerConfig, ContainerLimitReached, Fleet
from dockfleet.queues import host_queue
from tests.conftest import TEST_IMAGE, Host


def count(engine: docker.DockerClient, host: Host) -> int:
    return len(engine.containers.list(all=True, filters={"label": f"dockfleet.host={host.name}"}))


def test_two_workers_racing_for_the_last_slot_exactly_one_wins(
    fleet: Fleet, limited_host: Host, local_engine: docker.DockerClient
) -> None:
    # Given a host of max_containers=2, served by two worker processes, with one slot taken
    assert len(limited_host.workers) == 2
    fleet.create_container(ContainerConfig(image=TEST_IMAGE), host=limited_host.name)

    # When four creates race for the last slot
    def attempt(_: int) -> str:
        try:
            fleet.create_container(ContainerConfig(image=TEST_IMAGE), host=limited_host.name)
        except ContainerLimitReached as exc:
            assert exc.limit == 2
            assert "2" in str(exc) and limited_host.name in str(exc)
            return "refused"
        return "created"

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(attempt, range(4)))

    # Then exactly one wins and the host holds exactly the limit
    assert outcomes == ["created", "refused", "refused", "refused"]
    assert count(local_engine, limited_host) == 2

    # And a removal frees a slot again
    [victim, _] = local_engine.containers.list(
        all=True, filters={"label": f"dockfleet.host={limited_host.name}"}
    )
    fleet.remove_container(victim.id)
    fleet.create_container(ContainerConfig(image=TEST_IMAGE), host=limited_host.name)
    assert count(local_engine, limited_host) == 2
    for container in local_engine.containers.list(
        all=True, filters={"label": f"dockfleet.host={limited_host.name}"}
    ):
        container.remove(force=True)


def test_a_redelivered_create_adopts_instead_of_making_a_twin(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    # Given the same create message delivered twice (late ack, redelivery)
    config = ContainerConfig(image=TEST_IMAGE, name=f"adopt-{host_a.name}", request_id="req-42")
    wire = config.model_dump(mode="json")
    first = fleet.transport.call("dockfleet.containers.create", [wire], host_queue(host_a.name))
    second = fleet.transport.call("dockfleet.containers.create", [wire], host_queue(host_a.name))
    # Then both report the one container
    assert first["id"] == second["id"]
    assert count(local_engine, host_a) == 1


def test_a_second_create_with_a_taken_name_is_a_conflict(fleet: Fleet, host_a: Host) -> None:
    from dockfleet import Conflict

    name = f"taken-{host_a.name}"
    fleet.create_container(ContainerConfig(image=TEST_IMAGE, name=name), host=host_a.name)
    with pytest.raises(Conflict) as caught:
        fleet.create_container(ContainerConfig(image=TEST_IMAGE, name=name), host=host_a.name)
    assert name in str(caught.value)
