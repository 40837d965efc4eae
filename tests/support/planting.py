"""Plants fleet-looking objects straight on an engine, as the fleet (or a dead job) left them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import docker
from docker.models.containers import Container

from dockfleet import labels as fleet_labels

TEST_IMAGE = "busybox:local"
TEST_LABEL = "dockfleet.test"


def fleet_labels_for(
    host: str, *, job: str | None = None, age: float = 0.0, extra: dict[str, str] | None = None
) -> dict[str, str]:
    labels = {**fleet_labels.ownership(host, job=job), TEST_LABEL: "1", **(extra or {})}
    if age:
        created = datetime.now(UTC) - timedelta(seconds=age)
        labels[fleet_labels.CREATED] = created.isoformat(timespec="seconds")
    return labels


def container(
    engine: docker.DockerClient,
    labels: dict[str, str],
    *,
    cmd: list[str] | None = None,
    start: bool = True,
    **kwargs: Any,
) -> Container:
    made = engine.containers.create(TEST_IMAGE, cmd or ["sleep", "600"], labels=labels, **kwargs)
    if start:
        made.start()
    return made


def stopped(engine: docker.DockerClient, labels: dict[str, str]) -> Container:
    made = container(engine, labels, cmd=["true"])
    made.wait(timeout=30)
    return made


def busy(engine: docker.DockerClient, labels: dict[str, str], cpus: float) -> Container:
    """A container spinning its CPU, limited to `cpus` cores."""
    loop = ["sh", "-c", "while :; do :; done"]
    return container(engine, labels, cmd=loop, nano_cpus=int(cpus * 1e9))
