"""Class 3 at the worker: no foreign network namespace, no other job's network, no network
outside the policy, for messages that skip the producer.

Every refusal is shown to leave the engine untouched (no create event). Where it
depends on what the engine holds, the victim is real: a running job whose
service answers by its alias on the job's private network.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import docker
import pytest
from docker.models.containers import Container
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockfleet import (
    ContainerConfig,
    Fleet,
    InvalidSpec,
    JobSpec,
    NetworkOptions,
    PolicyViolation,
    ServiceSpec,
    keys,
)
from dockfleet.client.job_handle import JobHandle
from tests.conftest import TEST_IMAGE, TEST_LABEL, Host
from tests.support.refusals import creates_since, refused_untouched
from tests.support.services import wait_for
from tests.unit.test_scope_properties import NAMESPACE_MODES, RESERVED_NAMES

pytestmark = pytest.mark.usefixtures("clean_engine")

CREATE = "dockfleet.containers.create"
NETWORK_CREATE = "dockfleet.networks.create"
CONNECT = "dockfleet.networks.connect"
REFUSED = (PolicyViolation, InvalidSpec)


def sleeper(fleet: Fleet, host: Host, **fields: Any) -> str:
    """A running fleet container of a user's (the id)."""
    config = ContainerConfig(image=TEST_IMAGE, cmd=["sleep", "300"], **fields)
    info = fleet.create_container(config, host=host.name)
    fleet.start_container(info.id, host=host.name)
    return info.id


@pytest.fixture
def victim(fleet: Fleet, host_a: Host, local_engine: docker.DockerClient) -> Iterator[JobHandle]:
    """A running job with a service "db", on its private network."""
    service = ServiceSpec(
        alias="db", container=ContainerConfig(image=TEST_IMAGE, cmd=["sleep", "300"])
    )
    container = ContainerConfig(image=TEST_IMAGE, cmd=["sh", "-c", "sleep 12; nslookup db"])
    handle = fleet.run_job(JobSpec(container=container, services=[service], host=host_a.name))
    selector = {"label": f"dockfleet.job={handle.id}", "status": "running"}
    wait_for(lambda: len(local_engine.containers.list(filters=selector)) == 2, 30, "the job")
    yield handle
    handle.cancel()


def job_network(fleet: Fleet, handle: JobHandle) -> str:
    return str(fleet.transport.redis.hget(keys.job(handle.id), "network"))


@pytest.fixture
def target(fleet: Fleet, host_a: Host, local_engine: docker.DockerClient) -> Container:
    """A running container of the fleet's, to aim at."""
    return local_engine.containers.get(sleeper(fleet, host_a))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_joining_another_containers_network_namespace_is_refused_at_the_worker(
    fleet: Fleet,
    host_a: Host,
    local_engine: docker.DockerClient,
    target: Container,
    data: st.DataObject,
) -> None:
    # Given a running container of the fleet, named by id, short id or name
    ref = data.draw(st.sampled_from([target.id, target.id[:12], target.name]))
    mode = data.draw(st.one_of(st.just(f"container:{ref}"), NAMESPACE_MODES))
    # When a create that shares its namespace comes straight to the worker, it is refused
    config = {"image": TEST_IMAGE, "network": mode}
    refused_untouched(fleet, local_engine, host_a, CREATE, [config], REFUSED)


def test_another_jobs_network_is_not_joined_by_name_id_or_job(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient, victim: JobHandle
) -> None:
    network = job_network(fleet, victim)
    network_id = local_engine.networks.get(network).id
    # A user's container, by its name (reserved), its id or an id prefix: refused
    for ref in [network, network_id, network_id[:12]]:
        config = {"image": TEST_IMAGE, "network": ref, "network_aliases": ["db"]}
        refused_untouched(fleet, local_engine, host_a, CREATE, [config], REFUSED)
    # Also through the client, whose own checks cannot see whose network an id is
    with pytest.raises(PolicyViolation) as caught:
        fleet.create_container(ContainerConfig(image=TEST_IMAGE, network=network_id), host_a.name)
    assert caught.value.rule == "job-network"
    # And another job that names it for its own container and services: an error, no run
    since_ns = time.time_ns()
    thief = JobSpec(
        container=ContainerConfig(image=TEST_IMAGE, cmd=["true"], network=network_id),
        services=[ServiceSpec(alias="db", container=ContainerConfig(image=TEST_IMAGE))],
        host=host_a.name,
    )
    result = fleet.run_job(thief).wait(60)
    assert result.status == "error" and "job-network" in (result.error or "")
    assert [e for e in creates_since(local_engine, since_ns) if e["Type"] == "container"] == []
    # While the victim's job runs on and reaches its own service
    assert victim.wait(60).status == "succeeded"


def test_connect_disconnect_and_remove_leave_a_jobs_network_alone(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient, victim: JobHandle
) -> None:
    network = job_network(fleet, victim)
    mine = sleeper(fleet, host_a)
    job_container = f"dfj-{victim.id}"
    # Nothing is connected to a job's network, by name or id
    for ref in [network, local_engine.networks.get(network).id]:
        args = [ref, mine, ["db"], None]
        error = refused_untouched(fleet, local_engine, host_a, CONNECT, args, PolicyViolation)
        assert isinstance(error, PolicyViolation) and error.rule == "job-network"
    # A job's container is not connected to a user's network
    user_network = fleet.create_network(f"dft-user-{secrets.token_hex(3)}", host=host_a.name)
    args = [user_network.name, job_container, [], None]
    error = refused_untouched(fleet, local_engine, host_a, CONNECT, args, PolicyViolation)
    assert isinstance(error, PolicyViolation) and error.rule == "job-container"
    # Nor is a job's service taken off its network, nor the network removed
    with pytest.raises(PolicyViolation):
        fleet.disconnect_from_network(network, f"dfj-{victim.id}--svc-db", host=host_a.name)
    with pytest.raises(PolicyViolation):
        fleet.remove_network(network, host=host_a.name)
    assert victim.wait(60).status == "succeeded"


def test_the_host_network_by_id_and_networks_the_fleet_did_not_make_are_refused(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    host_network = local_engine.networks.get("host").id
    for ref in [host_network, host_network[:12]]:
        error = refused_untouched(
            fleet, local_engine, host_a, CREATE, [{"image": TEST_IMAGE, "network": ref}],
            PolicyViolation,
        )  # fmt: skip
        assert isinstance(error, PolicyViolation) and error.rule == "host-network"
    # Given a network made with docker itself (as a compose project's is)
    foreign = local_engine.networks.create(
        f"dft-foreign-{secrets.token_hex(3)}", labels={TEST_LABEL: "1"}
    )
    try:
        mine = sleeper(fleet, host_a)
        for ref in [foreign.name, foreign.id]:
            config = {"image": TEST_IMAGE, "network": ref}
            error = refused_untouched(fleet, local_engine, host_a, CREATE, [config], REFUSED)
            assert isinstance(error, PolicyViolation) and error.rule == "unmanaged-network"
            args = [ref, mine, [], None]
            refused_untouched(fleet, local_engine, host_a, CONNECT, args, PolicyViolation)
    finally:
        foreign.remove()
    # While the engine's own bridge stays usable, by name or id
    bridge = local_engine.networks.get("bridge").id[:12]
    assert sleeper(fleet, host_a, network=bridge)


NETWORKS = st.one_of(
    st.builds(lambda d: ("ci", {"driver": d}), st.sampled_from(["macvlan", "ipvlan", "overlay"])),
    st.builds(
        lambda key, value: ("ci", {"options": {key: value}}),
        st.sampled_from(
            [
                "parent",
                "com.docker.network.bridge.name",
                "com.docker.network.bridge.host_binding_ipv4",
                "macvlan_mode",
            ]
        ),
        st.sampled_from(["eth0", "docker0", "lo", "0.0.0.0", "bridge"]),
    ),  # fmt: skip
    st.builds(lambda s: ("ci", {"subnet": s}), st.sampled_from(["8.8.8.0/24", "127.0.0.0/8"])),
    st.builds(lambda name: (name.lstrip("/"), {}), RESERVED_NAMES.filter(lambda n: "/" not in n)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=NETWORKS)
def test_networks_outside_the_policy_are_not_made_by_a_message_to_the_worker(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient, case: tuple[str, Any]
) -> None:
    name, options = case
    unique = f"{name}-{secrets.token_hex(2)}" if name == "ci" else name
    refused_untouched(
        fleet, local_engine, host_a, NETWORK_CREATE, [unique, options], (PolicyViolation,
        InvalidSpec),
    )  # fmt: skip


def test_a_macvlan_on_a_host_interface_is_refused_by_the_client_too(fleet: Fleet) -> None:
    options = NetworkOptions(driver="macvlan", options={"parent": "eth0"})
    with pytest.raises(PolicyViolation) as caught:
        fleet.create_network(f"lan-{secrets.token_hex(2)}", options)
    assert caught.value.rule == "network-driver"
