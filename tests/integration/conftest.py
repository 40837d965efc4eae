"""Fixtures of the image and network tests: a private registry and teardown by label.

Images the tests build, tag or pull are removed after each test (everything
that appeared on the engine during it, except what was there before, so
`busybox:local` stays); networks the fleet made for host A are removed too.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import docker
import pytest

from tests.conftest import Host
from tests.support.services import RegistryServer

REGISTRY_USER = "fleet-ci"


@pytest.fixture(scope="session")
def registry() -> Iterator[RegistryServer]:
    server = RegistryServer(REGISTRY_USER, "pw-" + secrets.token_urlsafe(12)).start()
    yield server
    server.stop()


def image_names(engine: docker.DockerClient) -> set[str]:
    """Every image id and tag on the engine."""
    names = set()
    for row in engine.api.images(all=True):
        names.add(row["Id"])
        names.update(t for t in row.get("RepoTags") or [] if t != "<none>:<none>")
    return names


def remove_new_images(engine: docker.DockerClient, before: set[str]) -> None:
    """Remove every image and tag that is not in `before` (tags of old images: untag only)."""
    rows = engine.api.images(all=True)
    # Children before parents: newest first.
    for row in sorted(rows, key=lambda r: r.get("Created", 0), reverse=True):
        tags = [t for t in row.get("RepoTags") or [] if t != "<none>:<none>"]
        old = row["Id"] in before
        refs = [t for t in tags if t not in before] if old else (tags or [row["Id"]])
        for ref in refs:
            try:
                engine.api.remove_image(ref, force=not old)
            except docker.errors.APIError:
                pass  # a parent removed with its child, or still shared: next pass


def remove_host_networks(engine: docker.DockerClient, host: str) -> None:
    for network in engine.networks.list(filters={"label": f"dockfleet.host={host}"}):
        network.reload()
        for container in network.containers:
            network.disconnect(container, force=True)
        network.remove()


@pytest.fixture
def clean_engine(fleet: object, host_a: Host, local_engine: docker.DockerClient) -> Iterator[None]:
    """Whatever images and networks a test leaves on the local engine are removed after it."""
    before = image_names(local_engine)
    yield
    for container in local_engine.containers.list(
        all=True, filters={"label": f"dockfleet.host={host_a.name}"}
    ):
        container.remove(force=True)
    remove_host_networks(local_engine, host_a.name)
    remove_new_images(local_engine, before)
    remove_new_images(local_engine, before)
