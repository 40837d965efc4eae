"""A Redis with a password: the fleet works through it, and the password never shows."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from dockfleet import BrokerUnavailable, ContainerConfig, Fleet, JobSpec, Settings
from dockfleet.policy_model import SecurityPolicy
from tests.conftest import HEARTBEAT, LOCAL_DOCKER, TEST_IMAGE, random_name, worker_env
from tests.support.services import RedisServer, WorkerProcess
from tests.support.tls import make_tls

PASSWORD = "correct-horse-battery"
DOCKFLEET = str(Path(sys.executable).with_name("dockfleet"))


@pytest.fixture(scope="module")
def secured_redis() -> Iterator[RedisServer]:
    server = RedisServer(password=PASSWORD).start()
    yield server
    server.stop()


def test_jobs_and_containers_run_through_a_password_protected_redis(
    secured_redis: RedisServer, local_engine: docker.DockerClient, policy: SecurityPolicy
) -> None:
    host = random_name("tp")
    worker = WorkerProcess(host, worker_env(secured_redis.url, LOCAL_DOCKER, policy)).start()
    fleet = Fleet(Settings(redis_url=secured_redis.url, heartbeat_interval=HEARTBEAT))
    try:
        worker.wait_ready(secured_redis.url)
        info = fleet.create_container(ContainerConfig(image=TEST_IMAGE), host=host)
        assert fleet.remove_container(info.id).removed
        spec = {"container": {"image": TEST_IMAGE, "cmd": ["echo", "ok"]}, "host": host}
        assert fleet.run_job(spec).wait(timeout=30).status == "succeeded"  # type: ignore[arg-type]
    finally:
        fleet.close()
        worker.stop()
        for container in local_engine.containers.list(
            all=True, filters={"label": f"dockfleet.host={host}"}
        ):
            container.remove(force=True)


def test_a_wrong_password_is_one_clear_line_without_the_password(
    secured_redis: RedisServer,
) -> None:
    wrong = secured_redis.url.replace(PASSWORD, "wrong-password-123")
    with pytest.raises(BrokerUnavailable) as caught:
        Fleet(Settings(redis_url=wrong)).hosts()
    assert "wrong-password-123" not in str(caught.value)
    env = {**os.environ, "DOCKFLEET_REDIS_URL": wrong}
    result = subprocess.run([DOCKFLEET, "ps"], capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 125
    assert result.stderr.count("\n") == 1 and "refused the password" in result.stderr
    assert "wrong-password-123" not in result.stderr and ":***@" in result.stderr


def test_jobs_run_through_a_tls_redis(
    tmp_path: Path, local_engine: docker.DockerClient, policy: SecurityPolicy
) -> None:
    # Given a Redis that only speaks TLS (rediss://), and a worker and client that trust its CA
    tls = make_tls(tmp_path / "tls")
    server = RedisServer(tls=tls).start()
    host = random_name("ts")
    env = worker_env(server.url, LOCAL_DOCKER, policy, DOCKFLEET_REDIS_TLS_CA=str(tls.ca))
    worker = WorkerProcess(host, env).start()
    settings = Settings(
        redis_url=server.url, redis_tls_ca=str(tls.ca), heartbeat_interval=HEARTBEAT
    )
    fleet = Fleet(settings)
    try:
        worker.wait_ready(server.url, ssl_ca_certs=str(tls.ca))
        # Then a job runs end to end over it
        spec = {"container": {"image": TEST_IMAGE, "cmd": ["echo", "tls"]}, "host": host}
        handle = fleet.run_job(JobSpec.model_validate(spec))
        assert handle.wait(timeout=60).status == "succeeded"
        assert [ln.line for ln in handle.logs(follow=False)] == ["tls"]
        # And a client that does not trust the CA is refused, in one clear error
        with pytest.raises(BrokerUnavailable):
            Fleet(Settings(redis_url=server.url)).hosts()
    finally:
        fleet.close()
        worker.stop()
        server.stop()
