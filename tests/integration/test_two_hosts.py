"""Two Docker hosts: each call lands on the host that holds the container."""

from __future__ import annotations

import docker
import pytest

from dockfleet import ContainerConfig, ContainerFilter, Fleet, LogOptions
from tests.conftest import TEST_IMAGE, Host


def test_a_container_on_host_b_is_managed_on_host_b_without_naming_the_queue(
    fleet: Fleet, host_a: Host, host_b: Host, local_engine: docker.DockerClient
) -> None:
    # Given a container created on host B
    info = fleet.create_container(
        ContainerConfig(image=TEST_IMAGE, cmd=["sh", "-c", "echo from-b; sleep 300"]),
        host=host_b.name,
    )
    assert info.host == host_b.name
    assert host_b.engine.containers.get(info.id)
    with pytest.raises(docker.errors.NotFound):
        local_engine.containers.get(info.id)

    # When it is started, logged and removed by id alone
    assert fleet.start_container(info.id).host == host_b.name
    lines = list(fleet.get_container_logs(info.id, LogOptions(follow=False)))
    while not lines:
        lines = list(fleet.get_container_logs(info.id))
    assert [ln.line for ln in lines] == ["from-b"]
    assert fleet.remove_container(info.id, force=True).host == host_b.name

    # Then it is gone from host B
    with pytest.raises(docker.errors.NotFound):
        host_b.engine.containers.get(info.id)


def test_a_name_is_found_on_its_host_even_without_the_index(
    fleet: Fleet, host_a: Host, host_b: Host
) -> None:
    info = fleet.create_container(
        ContainerConfig(image=TEST_IMAGE, name=f"found-{host_b.name}"), host=host_b.name
    )
    fleet.transport.redis.delete(f"dockfleet:locate:{info.name}")
    assert fleet.inspect_container(info.name).host == host_b.name


def test_listing_and_batch_stop_span_every_host(fleet: Fleet, host_a: Host, host_b: Host) -> None:
    # Given one labelled running container on each host
    made = {}
    for host in (host_a, host_b):
        info = fleet.create_container(
            ContainerConfig(image=TEST_IMAGE, cmd=["sleep", "300"], labels={"span": "yes"}),
            host=host.name,
        )
        fleet.start_container(info.id)
        made[info.id] = host.name

    # Then a listing without a host finds both, each with its host
    query = ContainerFilter(labels={"span": "yes"})
    listed = {c.id: c.host for c in fleet.list_containers(query)}
    assert listed == made

    # And one batch stop acts on both hosts at once, one outcome per container
    outcomes = fleet.stop_containers(query, timeout=1)
    assert {(o.id, o.host, o.ok) for o in outcomes} == {(i, h, True) for i, h in made.items()}
    running = fleet.list_containers(query.model_copy(update={"status": ["running"]}))
    assert running == []
    fleet.remove_containers(query)


def test_hosts_lists_both_hosts_up_with_their_workers(
    fleet: Fleet, host_a: Host, host_b: Host
) -> None:
    hosts = {h.name: h for h in fleet.hosts()}
    for host in (host_a, host_b):
        status = hosts[host.name]
        assert status.up and status.engine_ok
        assert status.workers == [w.name for w in host.workers]
        assert status.cpus >= 1
    info = fleet.get_system_info(host_b.name)
    assert info.host == host_b.name and info.images >= 1 and info.docker_version
