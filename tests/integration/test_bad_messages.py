"""Malformed messages sent straight to a worker's queue: failed tasks, a worker still serving."""

from __future__ import annotations

import celery.exceptions
import docker
import pytest

from dockfleet import Fleet, InvalidSpec
from dockfleet.queues import host_queue
from tests.conftest import Host


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
