"""A Docker host reached over TCP with mutual TLS, as a remote builder would be."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from dockfleet import ContainerConfig, Fleet, HostUnavailable, LogOptions
from dockfleet.policy_model import SecurityPolicy
from tests.conftest import LOCAL_DOCKER, TEST_IMAGE, Host, random_name, worker_env
from tests.support.services import DockerDaemon, WorkerProcess
from tests.support.tls import make_tls


@pytest.fixture(scope="module")
def tls_engine(
    tmp_path_factory: pytest.TempPathFactory, local_engine: docker.DockerClient
) -> Iterator[DockerDaemon]:
    tls = make_tls(tmp_path_factory.mktemp("tls"))
    daemon = DockerDaemon(secrets.token_hex(2), secrets.randbelow(200) + 20, tls=tls).start()
    try:
        daemon.load_image(TEST_IMAGE, LOCAL_DOCKER)
        yield daemon
    finally:
        daemon.stop()


def tls_env(
    daemon: DockerDaemon, ca: Path, redis_url: str, policy: SecurityPolicy
) -> dict[str, str]:
    assert daemon.tls is not None
    return worker_env(
        redis_url,
        daemon.url,
        policy,
        DOCKFLEET_TLS_CA_CERT=str(ca),
        DOCKFLEET_TLS_CERT=str(daemon.tls.client_cert),
        DOCKFLEET_TLS_KEY=str(daemon.tls.client_key),
    )


def test_a_tls_host_runs_containers_through_the_fleet(
    fleet: Fleet, tls_engine: DockerDaemon, redis_url: str, policy: SecurityPolicy
) -> None:
    # Given a worker that reaches its engine over tcp:// with a client certificate
    # (and this machine's REQUESTS_CA_BUNDLE left in place: the client must ignore it)
    assert tls_engine.tls is not None
    env = tls_env(tls_engine, tls_engine.tls.ca, redis_url, policy)
    host = Host(
        random_name("tt"), tls_engine.url, docker.DockerClient(base_url=tls_engine.local_url)
    )
    worker = WorkerProcess(host.name, env).start()
    try:
        worker.wait_ready(redis_url)
        # When a container is created, started, logged and removed through the fleet
        info = fleet.create_container(
            ContainerConfig(image=TEST_IMAGE, cmd=["echo", "over tls"]), host=host.name
        )
        fleet.start_container(info.id)
        assert fleet.wait_container(info.id, timeout=20).exit_code == 0
        assert [ln.line for ln in fleet.get_container_logs(info.id, LogOptions())] == ["over tls"]
        assert fleet.remove_container(info.id).removed
        # Then it really ran on the TLS engine
        assert fleet.get_system_info(host.name).docker_version
    finally:
        worker.stop()
        host.engine.close()


def test_a_wrong_ca_marks_the_host_unreachable_not_the_worker_broken(
    fleet: Fleet, tls_engine: DockerDaemon, redis_url: str, policy: SecurityPolicy, tmp_path: Path
) -> None:
    # Given a worker that trusts another CA than the engine's
    other = make_tls(tmp_path / "other")
    env = tls_env(tls_engine, other.ca, redis_url, policy)
    host_name = random_name("tw")
    worker = WorkerProcess(host_name, env).start()
    try:
        worker.wait_ready(redis_url)
        # Then the registry says its engine is down and calls fail with HostUnavailable
        [status] = [h for h in fleet.hosts() if h.name == host_name]
        assert status.engine_ok is False and status.up is False
        with pytest.raises(HostUnavailable) as caught:
            fleet.get_system_info(host_name)
        assert host_name in str(caught.value)
    finally:
        worker.stop()


def test_a_worker_set_up_by_dockers_own_variables_reaches_the_tls_engine(
    fleet: Fleet, tls_engine: DockerDaemon, redis_url: str, policy: SecurityPolicy, tmp_path: Path
) -> None:
    # Given a worker environment as the docker CLI reads it: DOCKER_HOST, DOCKER_TLS_VERIFY
    # and a DOCKER_CERT_PATH folder of ca.pem, cert.pem, key.pem; no DOCKFLEET_ engine setting
    tls = tls_engine.tls
    assert tls is not None
    for source, name in (
        (tls.ca, "ca.pem"),
        (tls.client_cert, "cert.pem"),
        (tls.client_key, "key.pem"),
    ):
        shutil.copy(source, tmp_path / name)
    env = worker_env(redis_url, tls_engine.url, policy)
    del env["DOCKFLEET_DOCKER_HOST"]
    env.update(DOCKER_HOST=tls_engine.url, DOCKER_TLS_VERIFY="1", DOCKER_CERT_PATH=str(tmp_path))
    host_name = random_name("td")
    worker = WorkerProcess(host_name, env).start()
    try:
        worker.wait_ready(redis_url)
        # Then its host is up, and calls reach that engine, verified, at its own API version
        [status] = [h for h in fleet.hosts() if h.name == host_name]
        assert status.engine_ok is True
        engine = docker.DockerClient(base_url=tls_engine.local_url)
        engine_says = engine.api.version(api_version=False)
        engine.close()
        assert fleet.ping(host_name).api_version == engine_says["ApiVersion"]
        assert fleet.get_system_info(host_name).docker_version == engine_says["Version"]
    finally:
        worker.stop()
