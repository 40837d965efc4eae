"""API version negotiation: the fleet's default (`auto`) works on any engine, Docker 29 too.

Docker Engine 29 refuses clients below API 1.44, so a worker pinned at the old
default 1.41 fails every call there. With ``api_version="auto"`` the worker asks
the engine first: ``GET /version`` without a version prefix, which every engine
serves at its own API version, then speaks the ``ApiVersion`` it answered.

Two engines show it: this machine's real one, and `tests.support.docker29`, a
stand-in that answers as Docker 29 does (moby's version middleware): ``/_ping``
and ``/version`` without a ``/vX.Y`` prefix answer at API 1.52 (``ApiVersion``
1.52, ``MinAPIVersion`` 1.44, ``Version`` 29.0.0; ``/_ping`` with the engine's
``Api-Version``, ``Docker-Experimental``, ``Ostype`` headers), every path under
``/v1.41/`` ... ``/v1.43/`` gets HTTP 400 with the engine's JSON message "client
version 1.41 is too old. Minimum supported API version is 1.44, please upgrade
your client to a newer version", and ``/v1.52/containers/json`` lists a container.

That a worker started with default settings (``running_host``: no
``DOCKFLEET_API_VERSION``, so ``auto``) runs jobs end to end is what every job
test already shows, e.g. ``tests/integration/test_jobs.py::
test_run_job_reports_exit_code_log_and_resources`` through ``host_a``; here its
ping says which version it negotiated.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import docker
import pytest

from dockfleet import Fleet, Settings
from dockfleet.errors import EngineError
from dockfleet.policy_model import SecurityPolicy
from tests.conftest import LOCAL_DOCKER, Host, running_host
from tests.support.docker29 import CONTAINER_ID, Docker29, docker29
from tests.support.services import wait_for
from worker.engine.client import make_client
from worker.engine.containers import list_summaries
from worker.engine.errors import translate
from worker.runtime import Runtime

REFUSAL = (
    "refuses API 1.41 (minimum 1.44): set DOCKFLEET_API_VERSION=auto or a newer version "
    "on the host's worker and restart it"
)


@pytest.fixture
def engine29() -> Iterator[Docker29]:
    with docker29() as engine:
        yield engine


def test_default_settings_negotiate_this_machines_engine_version(
    local_engine: docker.DockerClient,
) -> None:
    # Given the default settings, pointed at this machine's engine
    settings = Settings(docker_host=LOCAL_DOCKER)
    assert settings.api_version == "auto"

    # When the worker's client is made
    client = make_client(settings)
    try:
        # Then it speaks the engine's own version, as GET /version states it
        engine_says = local_engine.api.version(api_version=False)["ApiVersion"]
        assert client.api.api_version == engine_says
        # and its calls work
        assert isinstance(list_summaries(client, {}, every=False), list)
    finally:
        client.close()


def test_a_worker_with_default_settings_reports_the_version_it_negotiated(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    # host_a's worker runs without DOCKFLEET_API_VERSION: its client negotiated
    engine_says = local_engine.api.version(api_version=False)["ApiVersion"]
    assert fleet.ping(host_a.name).api_version == engine_says


def test_auto_speaks_docker_29s_version_and_lists_its_containers(engine29: Docker29) -> None:
    # Given an engine that speaks API 1.52 and refuses anything below 1.44
    client = make_client(Settings(docker_host=engine29.url, api_version="auto"))
    try:
        # When the worker's client lists containers
        rows = list_summaries(client, {})

        # Then it asked the engine's version once, and spoke it
        assert client.api.api_version == "1.52"
        assert [row["Id"] for row in rows] == [CONTAINER_ID]
        assert engine29.requests == [("GET", "/version"), ("GET", "/v1.52/containers/json")]
    finally:
        client.close()


def test_a_pinned_old_version_fails_saying_what_to_do(engine29: Docker29) -> None:
    # Given a worker pinned at the old default
    client = make_client(Settings(docker_host=engine29.url, api_version="1.41"))
    try:
        # When it calls Docker 29
        with pytest.raises(docker.errors.APIError) as caught:
            list_summaries(client, {})
    finally:
        client.close()

    # Then the engine refused the version (no negotiation was asked) ...
    assert caught.value.status_code == 400
    assert engine29.requests == [("GET", "/v1.41/containers/json")]
    # ... and the fleet's error says which setting mends it
    error = translate(caught.value, "ci-29")
    assert isinstance(error, EngineError)
    assert str(error) == f"the engine of host 'ci-29' {REFUSAL}"


def test_a_worker_process_negotiates_once_however_many_threads_ask(engine29: Docker29) -> None:
    # Given a worker's runtime whose threads (tasks, heartbeat, state follower) start at once
    rt = Runtime(Settings(docker_host=engine29.url, host_name="ci-29"))
    barrier = threading.Barrier(8)
    clients: list[docker.DockerClient] = []

    def first_call() -> None:
        barrier.wait()
        clients.append(rt.docker)

    threads = [threading.Thread(target=first_call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    # Then there is one client, and the engine was asked its version once
    assert len(clients) == 8 and len({id(c) for c in clients}) == 1
    assert engine29.count("GET", "/version") == 1
    rt.docker.close()


def test_negotiation_ignores_the_proxy_of_the_environment(
    engine29: Docker29, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a machine whose environment names an HTTP proxy that does not answer
    # (every later engine call ignores it: the first must too)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    client = make_client(Settings(docker_host=engine29.url, api_version="auto"))

    assert client.api.api_version == "1.52"
    client.close()


def test_a_worker_pinned_below_the_engines_minimum_logs_what_to_do(
    engine29: Docker29,
    session_fleet: Fleet,
    redis_url: str,
    policy: SecurityPolicy,
    local_engine: docker.DockerClient,
) -> None:
    # Given a real worker pinned at 1.41, serving the Docker 29 stand-in
    with running_host(
        "t29", redis_url, policy, local_engine, engine29.url, DOCKFLEET_API_VERSION="1.41"
    ) as host:
        [worker] = host.workers
        # Then its host is down, and its log says why and what mends it
        wait_for(lambda: REFUSAL in worker.log_tail(), 10, "the worker's host.down line")
        [status] = [h for h in session_fleet.hosts() if h.name == host.name]
        assert status.engine_ok is False
        assert f"Docker host {host.name} is down: the engine of host" in worker.log_path.read_text()
