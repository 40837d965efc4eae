"""worker.engine holds the boundary: dockfleet errors and typed objects out, never docker-py's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import docker.errors
import pytest
import requests

from dockfleet import labels as fleet_labels
from dockfleet.errors import (
    ContainerNotFound,
    HostUnavailable,
    ImageNotFound,
    NetworkNotFound,
    NotFound,
)
from worker.engine import containers, images, networks, system
from worker.engine.client import EngineClient
from worker.engine.events import container_event
from worker.engine.objects import container_state, container_summary

HOST = "ci-1"


@pytest.fixture
def client() -> Iterator[EngineClient]:
    # An explicit API version: docker-py asks the engine nothing until a call is made.
    made = EngineClient(HOST, base_url="unix:///nonexistent/docker.sock", version="1.44")
    yield made
    made.close()


def answer_404(
    client: EngineClient, monkeypatch: pytest.MonkeyPatch, call: str, message: str
) -> None:
    """Make the engine answer `call` with a 404 saying `message` (of the ref asked)."""

    def gone(ref: str) -> dict[str, Any]:
        response = requests.Response()
        response.status_code = 404
        raise docker.errors.NotFound("404", response=response, explanation=message.format(ref=ref))

    monkeypatch.setattr(client.api, call, gone)


def test_an_engine_that_does_not_answer_is_host_unavailable_naming_the_host(
    client: EngineClient,
) -> None:
    with pytest.raises(HostUnavailable) as caught:
        system.ping(client, HOST)
    assert caught.value.host == HOST


@pytest.mark.parametrize(
    ("call", "message", "adapter", "error"),
    [
        (
            "inspect_container",
            "No such container: {ref}",
            lambda c: containers.inspect_state(c, "web"),
            ContainerNotFound,
        ),
        (
            "inspect_network",
            "network {ref} not found",
            lambda c: networks.inspect_network(c, "web", HOST),
            NetworkNotFound,
        ),
    ],
)
def test_a_missing_object_is_not_found_by_the_ref_asked(
    client: EngineClient,
    monkeypatch: pytest.MonkeyPatch,
    call: str,
    message: str,
    adapter: Callable[[EngineClient], object],
    error: type[NotFound],
) -> None:
    answer_404(client, monkeypatch, call, message)
    with pytest.raises(error) as caught:
        adapter(client)
    assert (caught.value.ref, caught.value.host) == ("web", HOST)


def test_an_error_inside_a_pulls_progress_stream_is_translated_as_it_comes(
    client: EngineClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an engine that reports a failed pull inside its event stream
    def pull(repository: str, **_: Any) -> Iterator[dict[str, Any]]:
        yield {"status": "Pulling from library/busybox"}
        yield {"error": "manifest unknown", "errorDetail": {"message": "manifest unknown"}}

    monkeypatch.setattr(client.api, "pull", pull)
    # When the pull is read, then the first event comes and the failure is the fleet's error
    events = images.pull(client, "busybox:nope")
    assert next(events)["status"].startswith("Pulling")
    with pytest.raises(ImageNotFound):
        next(events)


def test_the_legacy_raw_inspect_still_raises_docker_pys_error(
    client: EngineClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The job runner catches docker-py's NotFound from it until it reads `inspect_state`.
    answer_404(client, monkeypatch, "inspect_container", "No such container: {ref}")
    with pytest.raises(docker.errors.NotFound):
        containers.inspect_raw(client, "web")


def test_container_state_reads_the_run_and_the_setup_of_an_inspect_document() -> None:
    doc = {
        "Id": "abc",
        "Name": "/svc",
        "Created": "2024-05-01T12:00:00Z",
        "State": {"Status": "paused", "Running": True, "Health": {"Status": "healthy"}},
        "Config": {
            "Tty": True,
            "ExposedPorts": {"5432/tcp": {}, "53/udp": {}, "80/tcp": {}},
            "Env": ["TOKEN=s3cr3t", "A=1"],
            "Labels": {"dockfleet.managed": "true", fleet_labels.JOB: "j1",
                       fleet_labels.SECRET_ENV: "TOKEN"},
        },
        "HostConfig": {"Memory": 1024},
        "NetworkSettings": {"Networks": {"ci-net": {"NetworkID": "n1"}, "none": {}}},
    }  # fmt: skip
    state = container_state(doc)
    assert (state.id, state.name, state.status, state.running) == ("abc", "svc", "paused", True)
    assert (state.health, state.tty, state.memory_limit, state.job) == ("healthy", True, 1024, "j1")
    assert state.managed and state.exposed_tcp_ports == [80, 5432]
    assert state.network_ids == {"n1"}
    assert state.secret_values == ("s3cr3t",) and "s3cr3t" not in repr(state)


def test_container_summary_reads_a_list_row() -> None:
    row = {"Id": "abc", "Names": ["/web"], "State": "exited", "Created": 1714564800,
           "Labels": {fleet_labels.JOB: "j1"}, "ImageID": "sha256:1"}  # fmt: skip
    summary = container_summary(row)
    assert (summary.id, summary.name, summary.state, summary.created) == (
        "abc",
        "web",
        "exited",
        1714564800.0,
    )
    assert (summary.job, summary.image_id) == ("j1", "sha256:1")
    assert container_summary({"Id": "x"}).name == ""


@pytest.mark.parametrize(("code", "expected"), [("137", 137), ("-1", -1), ("", None), (None, None)])
def test_a_die_event_carries_its_exit_code(code: str | None, expected: int | None) -> None:
    attributes = {} if code is None else {"exitCode": code}
    event = container_event(
        {"Action": "die", "Actor": {"ID": "abc", "Attributes": attributes}, "timeNano": 5}
    )
    assert (event.action, event.container_id, event.exit_code, event.time_ns) == (
        "die",
        "abc",
        expected,
        5,
    )
