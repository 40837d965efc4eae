"""Messages sent straight to a worker's queue (past the producer), refused without a trace."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import docker
import pytest

from dockfleet import Fleet
from dockfleet.queues import host_queue
from tests.conftest import Host


def creates_since(
    engine: docker.DockerClient,
    since_ns: int,
    *,
    kinds: tuple[str, ...] = ("container", "network"),
    label: str | None = None,
) -> list[dict[str, Any]]:
    """Objects of `kinds` (with `label`, if given) the engine created since `since_ns` (its
    event clock)."""
    # The engine's `since` counts whole seconds: the nanosecond stamp makes it exact. (A
    # test that ends within the second the next one begins would lend it its creates.)
    filters: dict[str, Any] = {"type": list(kinds), "event": "create"}
    if label is not None:
        filters["label"] = label
    events = engine.events(
        since=datetime.fromtimestamp(since_ns // 1_000_000_000 - 1, UTC),
        until=datetime.now(UTC),
        decode=True,
        filters=filters,
    )
    return [e for e in events if int(e.get("timeNano", 0)) >= since_ns]


def refused_untouched(
    fleet: Fleet,
    engine: docker.DockerClient,
    host: Host,
    task: str,
    args: list[Any],
    expected: type[BaseException] | tuple[type[BaseException], ...],
) -> BaseException:
    """Send `task` to `host`'s own queue; it must fail with `expected`, having created
    nothing on the engine. Returns the error."""
    since_ns = time.time_ns()
    with pytest.raises(expected) as caught:
        fleet.transport.call(task, args, host_queue(host.name), timeout=20)
    assert creates_since(engine, since_ns) == []
    return caught.value
