"""The fleet acts only on containers it made (issue 14, class 7): an operator's own
containers, such as compose's Flower with its password in its env, are left alone."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import docker
import pytest
from docker.models.containers import Container

from dockfleet import ContainerConfig, ContainerFilter, Fleet, LogOptions, PolicyViolation
from dockfleet.queues import TaskNames, host_queue
from tests.conftest import TEST_IMAGE, TEST_LABEL, Host

pytestmark = pytest.mark.engine


@pytest.fixture
def operators_container(
    local_engine: docker.DockerClient,
) -> Iterator[Container]:
    """A container the fleet did not make, with a password in its env (like compose's Flower)."""
    container = local_engine.containers.run(
        TEST_IMAGE,
        ["sleep", "300"],
        name=f"operator-{secrets.token_hex(3)}",
        environment={"FLOWER_BASIC_AUTH": "admin:s3cret-" + secrets.token_hex(4)},
        labels={TEST_LABEL: "true", "team": "ops"},
        detach=True,
    )
    yield container
    container.remove(force=True)


@pytest.mark.parametrize(
    ("task", "args"),
    [
        (TaskNames.INSPECT, []),
        (TaskNames.STOP, [0]),
        (TaskNames.KILL, ["SIGKILL"]),
        (TaskNames.REMOVE, [True]),
        (TaskNames.RESTART, [0]),
        (TaskNames.WAIT, [1]),
        (TaskNames.STATS, []),
    ],
)
def test_a_worker_refuses_to_touch_a_container_the_fleet_did_not_make(
    fleet: Fleet,
    host_a: Host,
    operators_container: Container,
    task: str,
    args: list[object],
) -> None:
    # When a message names the operator's container directly on the host's queue
    with pytest.raises(PolicyViolation, match="unmanaged-container") as caught:
        fleet.transport.call(task, [operators_container.id, *args], host_queue(host_a.name))
    # Then it is refused, says nothing of its env, and the container runs on untouched
    assert "s3cret" not in str(caught.value)
    operators_container.reload()
    assert operators_container.status == "running"


def test_logs_and_batches_leave_an_unmanaged_container_alone(
    fleet: Fleet, host_a: Host, operators_container: Container
) -> None:
    with pytest.raises(PolicyViolation, match="unmanaged-container"):
        list(fleet.get_container_logs(operators_container.id, LogOptions(), host=host_a.name))
    # A batch that asks for unmanaged containers too acts only on the fleet's
    ours = fleet.create_container(
        ContainerConfig(image=TEST_IMAGE, cmd=["sleep", "300"], labels={"team": "ops"}),
        host=host_a.name,
    )
    fleet.start_container(ours.id)
    query = ContainerFilter(host=host_a.name, labels={"team": "ops"}, include_unmanaged=True)
    outcomes = fleet.stop_containers(query, timeout=0)
    assert [o.id for o in outcomes] == [ours.id]
    operators_container.reload()
    assert operators_container.status == "running"
