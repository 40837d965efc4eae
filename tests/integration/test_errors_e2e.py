"""Errors reach the client with the type the worker raised, and bad input changes nothing."""

from __future__ import annotations

import docker
import pytest

from dockfleet import (
    ContainerConfig,
    ContainerFilter,
    ContainerNotFound,
    Fleet,
    ImageNotFound,
    InvalidSpec,
    PolicyViolation,
)
from dockfleet.queues import SHARED_QUEUE, host_queue
from tests.conftest import TEST_IMAGE, Host


def fleet_containers(engine: docker.DockerClient, host: Host) -> int:
    return len(engine.containers.list(all=True, filters={"label": f"dockfleet.host={host.name}"}))


def test_unknown_image_is_image_not_found_on_the_client(fleet: Fleet, host_a: Host) -> None:
    with pytest.raises(ImageNotFound) as caught:
        fleet.create_container(
            ContainerConfig(image="busybox", tag="no-such-tag"), host=host_a.name
        )
    assert caught.value.host == host_a.name
    assert "busybox:no-such-tag" in str(caught.value)


def test_removed_container_is_container_not_found(fleet: Fleet, host_a: Host) -> None:
    info = fleet.create_container(ContainerConfig(image=TEST_IMAGE), host=host_a.name)
    assert fleet.remove_container(info.id).removed is True
    for call in (fleet.start_container, fleet.inspect_container, fleet.remove_container):
        with pytest.raises(ContainerNotFound):
            call(info.id)


def test_removed_behind_the_fleets_back_is_container_not_found(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    # Given a container the index knows, removed directly on the engine
    info = fleet.create_container(ContainerConfig(image=TEST_IMAGE), host=host_a.name)
    local_engine.containers.get(info.id).remove()
    # Then the stale index entry is dropped and the error is the right one
    with pytest.raises(ContainerNotFound):
        fleet.start_container(info.name)
    assert not fleet.transport.redis.smembers(f"dockfleet:locate:{info.name}")


def test_policy_violation_is_raised_before_anything_is_enqueued(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    redis = fleet.transport.redis
    before = fleet_containers(local_engine, host_a)
    for config in (
        ContainerConfig(image=TEST_IMAGE, volumes={"/etc": "/host-etc"}),
        ContainerConfig(image=TEST_IMAGE, volumes={"/var/run/docker.sock": "/s"}),
        ContainerConfig(image=TEST_IMAGE, user="root"),
        ContainerConfig(image=TEST_IMAGE, privileged=True),
        ContainerConfig(image=TEST_IMAGE, cap_add=["SYS_ADMIN"]),
    ):
        with pytest.raises(PolicyViolation) as caught:
            fleet.create_container(config, host=host_a.name)
        assert caught.value.rule
        assert redis.llen(host_queue(host_a.name)) == 0
        assert redis.llen(SHARED_QUEUE) == 0
    assert fleet_containers(local_engine, host_a) == before


def test_the_worker_enforces_the_policy_even_when_the_producer_is_bypassed(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    # Given a raw message that no producer checked (anyone with Redis access can send one)
    wire = ContainerConfig(image=TEST_IMAGE, volumes={"/etc": "/host-etc"}).model_dump(mode="json")
    # Then the worker refuses it with the same error, and creates nothing
    with pytest.raises(PolicyViolation) as caught:
        fleet.transport.call("dockfleet.containers.create", [wire], host_queue(host_a.name))
    assert caught.value.rule == "host-path"
    assert fleet_containers(local_engine, host_a) == 0


def test_malformed_arguments_are_invalid_spec_naming_the_field(fleet: Fleet, host_a: Host) -> None:
    bad = {"image": TEST_IMAGE, "memory_limit": -5}
    with pytest.raises(InvalidSpec) as caught:
        fleet.transport.call("dockfleet.containers.create", [bad], host_queue(host_a.name))
    assert "memory_limit" in str(caught.value)
    with pytest.raises(InvalidSpec) as caught:
        fleet.list_containers({"status": ["sleeping"]})  # type: ignore[arg-type]
    assert "status" in str(caught.value)


def test_cpu_limit_over_the_hosts_cpus_is_refused_by_the_worker(fleet: Fleet, host_a: Host) -> None:
    with pytest.raises(InvalidSpec) as caught:
        fleet.create_container(ContainerConfig(image=TEST_IMAGE, cpu_limit=512), host=host_a.name)
    assert "cpu_limit" in str(caught.value)


def test_batch_outcomes_name_each_container(fleet: Fleet, host_a: Host) -> None:
    made = {
        fleet.create_container(
            ContainerConfig(image=TEST_IMAGE, cmd=["sleep", "300"], labels={"batch": "1"}),
            host=host_a.name,
        ).id
        for _ in range(3)
    }
    for container_id in made:
        fleet.start_container(container_id)
    query = ContainerFilter(labels={"batch": "1"}, host=host_a.name)
    stopped = fleet.stop_containers(query, timeout=1)
    assert {o.id for o in stopped} == made and all(o.ok for o in stopped)
    removed = fleet.remove_containers(query)
    assert {o.id for o in removed} == made and all(o.action == "remove" for o in removed)
    assert fleet.list_containers(query) == []
