"""The light unix-socket path under docker-py answers as docker-py's own path does.

Against the real engine: the same results and the same docker-py errors as a
plain `docker.APIClient`, one kept-alive connection for a run of calls. The
corners the engine cannot be made to reach (it closes a kept-alive socket, it
never answers) are played by a small unix-socket server.
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from dockfleet.errors import ContainerNotFound, EngineBusy
from dockfleet.models import LogOptions
from tests.conftest import LOCAL_DOCKER, TEST_IMAGE, TEST_LABEL
from tests.support.services import in_ci
from worker.engine import system
from worker.engine.client import EngineClient
from worker.engine.events import ContainerEvents
from worker.engine.logs import LogReader
from worker.engine.unix_transport import LightAPIClient, query_string

# CI starts its engine on a unix socket: there, another engine is a failure, not a skip.
pytestmark = pytest.mark.skipif(
    not LOCAL_DOCKER.startswith("unix://") and not in_ci(),
    reason="the light path is for unix sockets",
)


@pytest.fixture
def clients() -> Iterator[tuple[LightAPIClient, docker.APIClient]]:
    light = LightAPIClient(base_url=LOCAL_DOCKER, version="1.41")
    plain = docker.APIClient(base_url=LOCAL_DOCKER, version="1.41")
    yield light, plain
    light.close()
    plain.close()


def test_calls_that_stream_nothing_answer_as_docker_py_does(
    clients: tuple[LightAPIClient, docker.APIClient],
) -> None:
    light, plain = clients
    assert light._calls is not None
    assert light.inspect_image(TEST_IMAGE)["Id"] == plain.inspect_image(TEST_IMAGE)["Id"]  # type: ignore[no-untyped-call]
    assert light.version(api_version=False)["ApiVersion"] == plain.version()["ApiVersion"]
    labels = {TEST_LABEL: "true"}
    made = light.create_container(TEST_IMAGE, ["sh", "-c", "echo out; echo err >&2"], labels=labels)
    try:
        light.start(made["Id"])
        assert light.wait(made["Id"])["StatusCode"] == 0
        assert light.logs(made["Id"]) == plain.logs(made["Id"])
        assert sorted(light.logs(made["Id"]).splitlines()) == [b"err", b"out"]
        mine = {"label": [f"{TEST_LABEL}=true"], "id": made["Id"]}
        listed = light.containers(all=True, filters=mine)
        assert [c["Id"] for c in listed] == [
            c["Id"] for c in plain.containers(all=True, filters=mine)
        ]
        assert light.inspect_container(made["Id"]) == plain.inspect_container(made["Id"])
    finally:
        light.remove_container(made["Id"], force=True)
    with pytest.raises(docker.errors.NotFound) as light_error:
        light.inspect_container(made["Id"])
    with pytest.raises(docker.errors.NotFound) as plain_error:
        plain.inspect_container(made["Id"])
    assert light_error.value.explanation == plain_error.value.explanation
    assert light_error.value.status_code == 404


def test_a_run_of_calls_keeps_one_connection(
    clients: tuple[LightAPIClient, docker.APIClient],
) -> None:
    light, _ = clients
    assert light._calls is not None
    for _ in range(20):
        light.inspect_image(TEST_IMAGE)  # type: ignore[no-untyped-call]
    assert len(light._calls._idle) == 1


def test_inspects_ask_and_fail_as_docker_py_does(
    clients: tuple[LightAPIClient, docker.APIClient],
) -> None:
    # The inspects skip docker-py's request plumbing (`get_json`): the same URL, answer
    # and errors for every way docker-py takes a resource
    light, plain = clients
    image = plain.inspect_image(TEST_IMAGE)  # type: ignore[no-untyped-call]
    for ref in (TEST_IMAGE, image["Id"], image["Id"][len("sha256:") :][:12], {"Id": image["Id"]}):
        assert light.inspect_image(ref) == image, ref
    made = plain.create_container(TEST_IMAGE, ["true"], labels={TEST_LABEL: "true"})
    try:
        expected = plain.inspect_container(made["Id"])
        for ref in (made["Id"], made["Id"][:12], expected["Name"].lstrip("/"), made):
            assert light.inspect_container(ref) == expected, ref
    finally:
        plain.remove_container(made["Id"], force=True)
    for call in (
        lambda api: api.inspect_container(made["Id"]),
        lambda api: api.inspect_image("dockfleet-no-such:image"),
        lambda api: api.inspect_image("busybox@sha256:" + "0" * 64),  # "@" quoted
        lambda api: api.inspect_container(None),
        lambda api: api.inspect_container({"Name": "x"}),
        lambda api: api.inspect_image(42),
    ):
        with pytest.raises(Exception) as light_error:
            call(light)
        with pytest.raises(Exception) as plain_error:
            call(plain)
        assert type(light_error.value) is type(plain_error.value)
        assert str(light_error.value) == str(plain_error.value)


@given(
    params=st.dictionaries(
        st.text("abcdef_", min_size=1, max_size=6),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.text(max_size=8),
            st.lists(st.text(max_size=5), max_size=3),
        ),
        max_size=5,
    )
)
def test_parameters_are_encoded_as_requests_encodes_them(params: dict[str, Any]) -> None:
    prepared = requests.Request("GET", "http://localhost/x", params=params).prepare()
    assert prepared.url is not None
    expected = prepared.url.partition("?")[2]
    assert query_string(params) == expected


def _serve(answer: Callable[[socket.socket], None]) -> Iterator[str]:
    """A unix socket at a fresh path whose every connection `answer` handles."""
    folder = tempfile.mkdtemp(prefix="dockfleet-sock-")
    path = str(Path(folder) / "engine.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen()

    def loop() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    yield path
    server.close()
    Path(path).unlink(missing_ok=True)
    Path(folder).rmdir()


def _answer_once_then_close(conn: socket.socket) -> None:
    with conn:
        conn.recv(65536)
        body = b'{"ApiVersion": "1.41"}'
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        # and closes the kept-alive socket, as an engine restarting would


@pytest.fixture
def closing_engine() -> Iterator[str]:
    yield from _serve(_answer_once_then_close)


def test_a_kept_alive_socket_the_engine_closed_is_not_reused(closing_engine: str) -> None:
    light = LightAPIClient(base_url=f"unix://{closing_engine}", version="1.41")
    for _ in range(3):
        assert light.version(api_version=False)["ApiVersion"] == "1.41"
    light.close()


@pytest.fixture
def silent_engine() -> Iterator[str]:
    held: list[socket.socket] = []
    yield from _serve(held.append)  # reads nothing, answers nothing
    for conn in held:
        conn.close()


def test_an_engine_that_does_not_answer_in_time_is_busy(silent_engine: str) -> None:
    client = EngineClient("ci-1", base_url=f"unix://{silent_engine}", version="1.41", timeout=1)
    with pytest.raises(EngineBusy, match="did not answer in time"):
        system.ping(client, "ci-1")
    client.close()


def test_a_chunked_answer_is_read_whole(clients: tuple[LightAPIClient, docker.APIClient]) -> None:
    # Go's server sends a body over 4 KiB chunked: a container with large labels
    light, plain = clients
    labels = {TEST_LABEL: "true", **{f"dockfleet.test.pad{i}": "x" * 200 for i in range(40)}}
    made = light.create_container(TEST_IMAGE, ["true"], labels=labels)
    try:
        answer = light.get(f"{light.base_url}/v1.41/containers/{made['Id']}/json")
        assert answer.headers.get("Transfer-Encoding") == "chunked"
        assert light.inspect_container(made["Id"]) == plain.inspect_container(made["Id"])
    finally:
        light.remove_container(made["Id"], force=True)


@pytest.fixture
def engines() -> Iterator[tuple[EngineClient, docker.DockerClient]]:
    """The fleet's client (streams on the light path) and a plain docker-py one."""
    light = EngineClient("ci-1", base_url=LOCAL_DOCKER, version="1.41")
    plain = docker.DockerClient(base_url=LOCAL_DOCKER, version="1.41")
    yield light, plain
    light.close()
    plain.close()


@contextlib.contextmanager
def _running(client: EngineClient, script: str, *, tty: bool = False) -> Iterator[dict[str, Any]]:
    """A test container running `script`, as its inspect; removed after."""
    made = client.api.create_container(
        TEST_IMAGE, ["sh", "-c", script], labels={TEST_LABEL: "true"}, tty=tty
    )
    try:
        client.api.start(made["Id"])
        yield client.api.inspect_container(made["Id"])
    finally:
        client.api.remove_container(made["Id"], force=True)


# out and err apart, a line of 40,000 bytes (three partial messages), a line without an end
_NOISY = (
    "for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.1; done;"
    " head -c 40000 /dev/zero | tr '\\0' x; echo; sleep 0.2; printf tail"
)


def _without_tail(lines: list[tuple[str, str, Any]]) -> list[tuple[str, str, Any]]:
    """A followed read of `_NOISY` without its unterminated last line, if that came."""
    return lines[:-1] if lines and lines[-1][:2] == ("stdout", "tail") else lines


@pytest.mark.parametrize("tty", [False, True])
def test_a_followed_log_reads_as_docker_py_reads_it(
    engines: tuple[EngineClient, docker.DockerClient], tty: bool
) -> None:
    light, plain = engines
    with _running(light, _NOISY, tty=tty) as state:
        follow = LogOptions(follow=True)
        live: dict[str, list[tuple[str, str, Any]]] = {}

        def read(name: str, client: docker.DockerClient) -> None:
            live[name] = list(LogReader(client, state, follow).lines())

        readers = [
            threading.Thread(target=read, args=args)
            for args in (("light", light), ("plain", plain))
        ]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(30)
        # The engine may end a follow at the container's exit before the last line
        # without an end is out, for either reader on its own (moby flushes that partial
        # message as the follow is told to stop): it is compared after the exit.
        before_tail = {name: _without_tail(lines) for name, lines in live.items()}
        assert before_tail["light"] == before_tail["plain"]
        ended = [list(LogReader(c, state, follow).lines()) for c in (light, plain)]
        assert ended[0] == ended[1]
        assert ended[0][: len(before_tail["light"])] == before_tail["light"]
        assert len(before_tail["light"]) == len(ended[0]) - 1
        assert [len(text) for _, text, _ in ended[0] if len(text) > 100] == [40000]
        assert ended[0][-1][:2] == ("stdout", "tail")
        if not tty:
            streams = [(s, t) for s, t, _ in ended[0] if len(t) < 100]
            assert ("stderr", "err2") in streams and ("stdout", "out3") in streams
        tail = [list(LogReader(c, state, LogOptions(tail=2)).lines()) for c in (light, plain)]
        assert tail[0] == tail[1]
        assert tail[0][-1] == ended[0][-1]


def test_a_follow_closed_from_another_thread_ends(
    engines: tuple[EngineClient, docker.DockerClient],
) -> None:
    light, _ = engines
    with _running(light, "echo one; sleep 60") as state:
        reader = LogReader(light, state, LogOptions(follow=True))
        lines = reader.lines()
        assert next(lines)[1] == "one"
        threading.Timer(0.2, reader.close).start()
        assert list(lines) == []  # ends, without an error


def test_the_log_of_a_missing_container_is_not_found(
    engines: tuple[EngineClient, docker.DockerClient],
) -> None:
    light, plain = engines
    gone = {"Id": "0" * 64, "Config": {"Tty": False, "Env": [], "Labels": {}}}
    for client in (light, plain):
        with pytest.raises(ContainerNotFound):
            LogReader(client, gone, LogOptions(follow=True))


def test_container_events_read_as_docker_py_reads_them(
    engines: tuple[EngineClient, docker.DockerClient],
) -> None:
    light, plain = engines
    mark = f"{TEST_LABEL}.events={uuid.uuid4().hex}"
    key, _, value = mark.partition("=")
    since = int(time.time()) - 1
    made = light.api.create_container(TEST_IMAGE, ["true"], labels={TEST_LABEL: "true", key: value})
    light.api.start(made["Id"])
    light.api.wait(made["Id"])
    light.api.remove_container(made["Id"], force=True)
    until = int(time.time()) + 1
    seen = [
        list(ContainerEvents(client, labels=[mark], since=since, until=until))
        for client in (light, plain)
    ]
    assert seen[0] == seen[1]
    assert [e.action for e in seen[0]] == ["create", "start", "die", "destroy"]
    assert {e.container_id for e in seen[0]} == {made["Id"]}
    assert seen[0][2].exit_code == 0


def test_an_event_stream_closed_from_another_thread_ends(
    engines: tuple[EngineClient, docker.DockerClient],
) -> None:
    light, _ = engines
    now = int(time.time())
    stream = ContainerEvents(light, labels=[f"{TEST_LABEL}.none=1"], since=now, until=now + 600)
    threading.Timer(0.2, stream.close).start()
    started = time.monotonic()
    assert list(stream) == []
    assert time.monotonic() - started < 5
