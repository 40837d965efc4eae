"""Plants fleet-looking objects straight on an engine, as the fleet (or a dead job) left them."""

from __future__ import annotations

import io
import secrets
import tarfile
from datetime import UTC, datetime, timedelta
from typing import Any

import docker
from docker.models.containers import Container

from dockfleet import labels as fleet_labels

TEST_IMAGE = "busybox:local"
TEST_LABEL = "dockfleet.test"


def tar_of(files: dict[str, str], gzip: bool = False) -> bytes:
    """A build context: a tar (gzipped if asked) of `files` (name -> text)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gzip else "w") as archive:
        for name, text in files.items():
            data = text.encode()
            entry = tarfile.TarInfo(name)
            entry.size = len(data)
            archive.addfile(entry, io.BytesIO(data))
    return buffer.getvalue()


def build_image(engine: docker.DockerClient, dockerfile: str, repository: str) -> str:
    """Build `dockerfile` (no context) straight on `engine` as `repository:<random>`, labelled
    as a test's; its tag (the caller removes it)."""
    tag = f"{repository}:{secrets.token_hex(4)}"
    engine.images.build(
        fileobj=io.BytesIO(dockerfile.encode()), tag=tag, labels={TEST_LABEL: "true"}, rm=True
    )
    return tag


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
