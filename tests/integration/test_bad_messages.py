"""Malformed messages sent straight to a worker's queue: failed tasks, a worker still serving."""

from __future__ import annotations

import time

import celery.exceptions
import docker
import pytest
from hypothesis import HealthCheck, assume, given, settings

from dockfleet import ContainerConfig, Fleet, InvalidSpec, PolicyViolation
from dockfleet.queues import host_queue
from dockfleet.validation import parse
from tests.conftest import Host
from tests.support.refusals import creates_since
from tests.unit.test_bad_input_properties import CONTAINER


def count_fleet(engine: docker.DockerClient, host: Host) -> int:
    return len(engine.containers.list(all=True, filters={"label": f"dockfleet.host={host.name}"}))


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("dockfleet.containers.create", ["not a mapping"], InvalidSpec),
        ("dockfleet.containers.create", [{"image": 42}], InvalidSpec),
        ("dockfleet.containers.create", [{"image": "x" * 1_000_000}], InvalidSpec),
        (
            "dockfleet.containers.create",
            [{"image": "busybox:local", "cpu_limit": "lots"}],
            InvalidSpec,
        ),
        ("dockfleet.containers.create", [{}], InvalidSpec),
        ("dockfleet.containers.list", [{"limit": -3}], InvalidSpec),
        ("dockfleet.containers.logs", ["x", {"tail": "many"}, "s"], InvalidSpec),
        ("dockfleet.jobs.run", [{"container": None}, "j-1"], InvalidSpec),
        ("dockfleet.containers.create", [], TypeError),
        ("dockfleet.containers.start", [1, 2, 3, 4], TypeError),
    ],
)
def test_malformed_arguments_fail_the_task_and_create_nothing(
    fleet: Fleet,
    host_a: Host,
    local_engine: docker.DockerClient,
    name: str,
    args: list[object],
    expected: type[Exception],
) -> None:
    before = count_fleet(local_engine, host_a)
    with pytest.raises(expected):
        fleet.transport.call(name, args, host_queue(host_a.name), timeout=20)
    assert count_fleet(local_engine, host_a) == before
    assert fleet.ping(host_a.name).ok


def test_unknown_task_names_and_garbage_leave_the_worker_serving(
    fleet: Fleet, host_a: Host
) -> None:
    # An unknown task is recorded as failed (NotRegistered), not silently dropped
    result = fleet.transport.send(
        "dockfleet.containers.teleport", [], host_queue(host_a.name), timeout=20
    )
    with pytest.raises(celery.exceptions.NotRegistered):
        result.get(timeout=20)
    # Bytes that are no message at all are rejected by the worker
    fleet.transport.redis.lpush(host_queue(host_a.name), b"\x00\xffnot json at all{")
    fleet.transport.redis.lpush(host_queue(host_a.name), b'{"body": "%%%", "headers": {}}')
    # And the worker still serves, in one piece
    assert fleet.ping(host_a.name).ok
    assert all(w.process is not None and w.process.poll() is None for w in host_a.workers)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=CONTAINER)
def test_invalid_specs_sent_past_the_producer_touch_no_engine(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient, data: dict[str, object]
) -> None:
    # Given a spec the producer would refuse, sent straight to the worker's queue
    try:
        parse(ContainerConfig, data)
    except (InvalidSpec, PolicyViolation):
        pass
    else:
        assume(False)
    since_ns = time.time_ns()
    # Then the worker refuses it too, and the engine creates nothing for it
    with pytest.raises((InvalidSpec, PolicyViolation)):
        fleet.transport.call(
            "dockfleet.containers.create", [data], host_queue(host_a.name), timeout=20
        )
    assert creates_since(local_engine, since_ns, kinds=("container",)) == []
