"""`dockfleet run` exits 125 when the fleet failed, and with the job's own code otherwise.

A pipeline step must tell "the fleet broke" from "the tests failed", as with
`docker run`: every failure of dockfleet itself, before or around the job, is
one line on stderr that says what to do, and exit status 125. Each test runs
the real command as a subprocess against real Redis servers and a real worker.

(A bad job file, ``run -f``, exits 125 too: tests/unit/test_cli_job_file.py.)
"""

from __future__ import annotations

import io
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import docker
import pytest
import redis

from dockfleet import keys
from dockfleet.store import host_records
from tests.conftest import TEST_IMAGE, TEST_LABEL, Host
from tests.support.cli import FLEET_FAILED, one_error_line, run_dockfleet
from tests.support.services import RedisServer, free_port

PASSWORD = "exit-codes-secret-9"


@contextmanager
def silent_server() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that accepts connections and never answers (a hung Redis)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()


@pytest.fixture(scope="module")
def secured_redis() -> Iterator[RedisServer]:
    server = RedisServer(password=PASSWORD).start()
    yield server
    server.stop()


@pytest.fixture
def exits_at_once(local_engine: docker.DockerClient) -> Iterator[str]:
    """An image that exposes a port and exits 1 at once, silently: a service never ready."""
    tag = f"dockfleet-test-exits:{secrets.token_hex(3)}"
    dockerfile = f'FROM {TEST_IMAGE}\nEXPOSE 9\nCMD ["sh", "-c", "exit 1"]\n'
    local_engine.images.build(
        fileobj=io.BytesIO(dockerfile.encode()), tag=tag, labels={TEST_LABEL: "1"}, rm=True
    )
    yield tag
    local_engine.images.remove(tag, force=True)


def test_a_bad_flag_exits_125_naming_the_flag(redis_url: str) -> None:
    result = run_dockfleet("run", "--bogus", TEST_IMAGE, redis_url=redis_url)

    assert result.returncode == FLEET_FAILED
    one_error_line(result, "--bogus", "dockfleet run --help")


def test_a_refused_redis_exits_125_naming_the_url_and_its_setting() -> None:
    # Given a loopback port where nothing listens
    url = f"redis://127.0.0.1:{free_port()}/0"

    result = run_dockfleet("run", TEST_IMAGE, "--", "true", redis_url=url)

    assert result.returncode == FLEET_FAILED
    one_error_line(result, "cannot reach the fleet's Redis", url, "refused", "DOCKFLEET_REDIS_URL")


def test_a_redis_that_never_answers_exits_125_within_seconds() -> None:
    # Given a server that takes the connection and never says a word
    with silent_server() as port:
        url = f"redis://127.0.0.1:{port}/0"
        started = time.monotonic()

        result = run_dockfleet("run", TEST_IMAGE, "--", "true", redis_url=url, timeout=60)

        took = time.monotonic() - started
    # Then it says so in one line after the answer timeout (5 s), not after minutes
    assert result.returncode == FLEET_FAILED
    one_error_line(result, f"Redis at {url} did not answer within 5s", "DOCKFLEET_REDIS_URL")
    assert took < 20, f"took {took:.1f}s"


def test_a_wrong_redis_password_exits_125_without_showing_it(secured_redis: RedisServer) -> None:
    wrong = secured_redis.url.replace(PASSWORD, "not-the-password-77")

    result = run_dockfleet("run", TEST_IMAGE, "--", "true", redis_url=wrong)

    assert result.returncode == FLEET_FAILED
    line = one_error_line(result, "refused the password", ":***@", "DOCKFLEET_REDIS_URL")
    assert "not-the-password-77" not in line and PASSWORD not in line


def test_a_policy_refusal_exits_125_naming_the_rule(redis_url: str) -> None:
    result = run_dockfleet("run", "-v", "/etc:/x", TEST_IMAGE, "--", "true", redis_url=redis_url)

    assert result.returncode == FLEET_FAILED
    one_error_line(result, "policy violation", "host-path", "/etc")


def test_a_fleet_without_a_live_host_exits_125_at_once() -> None:
    # Given a Redis of its own that no worker serves
    server = RedisServer().start()
    try:
        started = time.monotonic()

        result = run_dockfleet("run", TEST_IMAGE, "--", "true", redis_url=server.url)

        took = time.monotonic() - started
    finally:
        server.stop()
    assert result.returncode == FLEET_FAILED
    one_error_line(result, "no live Docker host in the fleet at", server.url, "dockfleet up -d")
    assert took < 15, f"took {took:.1f}s"


def test_a_host_no_worker_serves_exits_125_naming_the_known_ones(
    fleet: object, host_a: Host, redis_url: str
) -> None:
    # Given a fleet whose one host is host_a, and a typo in --host
    result = run_dockfleet("run", "--host", "no-such-host", TEST_IMAGE, redis_url=redis_url)

    # Then the step fails at once instead of waiting for a host that never comes
    assert result.returncode == FLEET_FAILED
    one_error_line(result, "'no-such-host' is unavailable", "known hosts:", host_a.name)


def test_a_host_that_is_down_queues_the_job_and_says_so(
    fleet: object, host_a: Host, redis_url: str
) -> None:
    # Given a host whose worker last beat an hour ago
    gone = f"gone-{secrets.token_hex(3)}"
    client = redis.Redis.from_url(redis_url)
    host_records.write_beat(client, gone, "celery@gone", time.time() - 3600, engine=None)
    try:
        # When a job is sent to it
        result = run_dockfleet("run", "-d", "--host", gone, TEST_IMAGE, redis_url=redis_url)

        # Then it is queued for that host's return, with a warning that says so
        assert result.returncode == 0, result.stderr
        assert f"host {gone} is down (last seen" in result.stderr
        assert "waits in its queue" in result.stderr
        job_id = result.stdout.strip()
        assert run_dockfleet("cancel", job_id, redis_url=redis_url).returncode == 0
    finally:
        client.delete(keys.host(gone))
        client.zrem(keys.HOSTS, gone)
        client.close()


def test_an_unknown_image_exits_125(fleet: object, host_a: Host, redis_url: str) -> None:
    args = ["--host", host_a.name, "--pull", "never", "nosuchimage:1", "--", "true"]

    result = run_dockfleet("run", *args, redis_url=redis_url)

    assert result.returncode == FLEET_FAILED
    one_error_line(result, "error", "no such image", "nosuchimage:1")


def test_a_service_that_never_gets_ready_exits_125(
    fleet: object, host_a: Host, redis_url: str, exits_at_once: str
) -> None:
    # Given a service whose container exits at once, before it ever listens
    args = ["--host", host_a.name, "--service", f"{exits_at_once}=db", TEST_IMAGE]

    result = run_dockfleet("run", *args, "--", "echo", "never-runs", redis_url=redis_url)

    assert result.returncode == FLEET_FAILED
    one_error_line(result, "service 'db' did not become ready", "exited with code 1")
    assert "never-runs" not in result.stdout


def test_the_jobs_own_exit_code_is_passed_through(
    fleet: object, host_a: Host, redis_url: str
) -> None:
    args = ["--host", host_a.name, TEST_IMAGE, "--", "sh", "-c", "echo out; exit 2"]

    result = run_dockfleet("run", *args, redis_url=redis_url)

    assert (result.returncode, result.stdout, result.stderr) == (2, "out\n", "")
