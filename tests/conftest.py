"""Fixtures: a private Redis, the local engine, a second engine, and Celery workers.

Every Docker host in a test run gets a fresh random name, so the fleet's own
labels (``dockfleet.host=<name>``) identify exactly what the run created;
teardown removes it all by those labels, on every engine.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import docker
import pytest

from dockfleet import Fleet, Settings
from dockfleet.policy_model import SecurityPolicy
from tests.support.services import DockerDaemon, RedisServer, WorkerProcess, require

_STATE_DIR = pytest.StashKey[str]()
TEST_IMAGE = "busybox:local"
#: the engine the tests treat as "this machine's" (another dockerd may stand in for it)
LOCAL_DOCKER = os.environ.get("DOCKFLEET_TEST_DOCKER_HOST", "unix:///var/run/docker.sock")
TEST_LABEL = "dockfleet.test"
HEARTBEAT = 1.0


@dataclass
class Host:
    """A Docker host of the test fleet: its name, engine and workers."""

    name: str
    docker_url: str
    engine: docker.DockerClient
    workers: list[WorkerProcess] = field(default_factory=list)


def random_name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def _engine(url: str) -> docker.DockerClient:
    client = docker.DockerClient(base_url=url, version="1.41", timeout=60)
    client.api.trust_env = False
    return client


def pytest_configure(config: pytest.Config) -> None:
    # Tests never see a fleet the developer runs with `dockfleet up` (its env file names
    # its Redis): a private state folder for the run. (A hook, not module code: test files
    # import this module again under its package name.)
    config.stash[_STATE_DIR] = tempfile.mkdtemp(prefix="dockfleet-test-state-")
    os.environ["DOCKFLEET_STATE_DIR"] = config.stash[_STATE_DIR]


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(config.stash.get(_STATE_DIR, ""), ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    server = RedisServer().start()
    yield server.url
    server.stop()


@pytest.fixture
def persistent_redis() -> Iterator[RedisServer]:
    """A Redis of the test's own with AOF fsynced on every write, for tests that kill it."""
    server = RedisServer(persistent=True).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def local_engine() -> docker.DockerClient:
    client = _engine(LOCAL_DOCKER)
    try:
        reachable = bool(client.ping())
    except Exception:
        reachable = False
    require(reachable, f"a Docker engine at {LOCAL_DOCKER} (make engine)")
    try:
        client.images.get(TEST_IMAGE)
    except docker.errors.ImageNotFound:
        require(False, f"the {TEST_IMAGE} image (make image)")
    return client


@pytest.fixture(scope="session")
def bind_root() -> Iterator[str]:
    path = tempfile.mkdtemp(prefix="dockfleet-binds-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def policy(bind_root: str) -> SecurityPolicy:
    # Builds on: the image tests build on the plain (not user-remapping) test engine.
    return SecurityPolicy(allowed_host_paths=[bind_root], allow_builds=True)


def worker_env(
    redis_url: str, docker_url: str, policy: SecurityPolicy, **extra: str
) -> dict[str, str]:
    env = {
        "DOCKFLEET_REDIS_URL": redis_url,
        "DOCKFLEET_DOCKER_HOST": docker_url,
        "DOCKFLEET_HEARTBEAT_INTERVAL": str(HEARTBEAT),
        "DOCKFLEET_DEFAULT_TIMEOUT": "20",
        "DOCKFLEET_STATE_RESYNC_INTERVAL": "3",
        # Many test hosts share one engine, and each network takes one of its ~30 default
        # address pools: keep the warm pools small here (they grow on demand).
        "DOCKFLEET_NETWORK_POOL_SIZE": "1",
        "DOCKFLEET_POLICY__ALLOWED_HOST_PATHS": json.dumps(policy.allowed_host_paths),
        "DOCKFLEET_POLICY__ALLOW_BUILDS": json.dumps(policy.allow_builds),
    }
    env.update(extra)
    return env


def start_host(
    name: str,
    docker_url: str,
    engine: docker.DockerClient,
    env: dict[str, str],
    workers: int,
    redis_url: str,
) -> Host:
    host = Host(name, docker_url, engine)
    host.workers = [WorkerProcess(name, env, index=i).start() for i in range(workers)]
    for worker in host.workers:
        worker.wait_ready(redis_url)
    return host


@contextmanager
def running_host(
    prefix: str,
    redis_url: str,
    policy: SecurityPolicy,
    engine: docker.DockerClient,
    docker_url: str = LOCAL_DOCKER,
    workers: int = 1,
    **env: str,
) -> Iterator[Host]:
    """A host of the test fleet with its workers; stopped and cleaned up on the way out."""
    settings = worker_env(redis_url, docker_url, policy, **env)
    host = start_host(random_name(prefix), docker_url, engine, settings, workers, redis_url)
    try:
        yield host
    finally:
        for worker in host.workers:
            worker.stop()
        remove_host_objects(host)


def local_host(
    prefix: str, *, scope: Literal["session", "module"] = "module", workers: int = 1, **env: str
) -> Any:
    """A fixture: a host of the test fleet on the local engine, served by `workers` workers
    with the tests' settings and `env`; stopped and cleaned up when its scope ends.
    Assign it to the fixture's name: ``narrow_host = local_host("tn", ...)``."""

    @pytest.fixture(scope=scope)
    def host(
        redis_url: str, local_engine: docker.DockerClient, policy: SecurityPolicy
    ) -> Iterator[Host]:
        with running_host(prefix, redis_url, policy, local_engine, workers=workers, **env) as made:
            yield made

    return host


def remove_host_objects(host: Host) -> None:
    selector = {"label": f"dockfleet.host={host.name}"}
    for container in host.engine.containers.list(all=True, filters=selector):
        container.remove(force=True)
    for network in host.engine.networks.list(filters=selector):
        network.remove()
    for image in host.engine.images.list(filters=selector):
        host.engine.images.remove(image.id, force=True)
    for volume in host.engine.volumes.list(filters=selector):  # job caches
        volume.remove(force=True)


#: the local engine, served by one worker
host_a = local_host("ta", scope="session", DOCKFLEET_MAX_CONTAINERS="20")


@pytest.fixture(scope="session")
def engine_b(local_engine: docker.DockerClient) -> Iterator[DockerDaemon]:
    daemon = DockerDaemon(secrets.token_hex(2), subnet_octet=secrets.randbelow(200) + 20).start()
    try:
        daemon.load_image(TEST_IMAGE, LOCAL_DOCKER)
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture(scope="session")
def host_b(redis_url: str, engine_b: DockerDaemon, policy: SecurityPolicy) -> Iterator[Host]:
    """A second dockerd on this machine, served by its own worker."""
    engine = _engine(engine_b.url)
    with running_host("tb", redis_url, policy, engine, docker_url=engine_b.url) as host:
        yield host
    engine.close()


#: the local engine as a host of max_containers=2, served by two worker processes
limited_host = local_host("tl", scope="session", workers=2, DOCKFLEET_MAX_CONTAINERS="2")


#: the short ages of the maintenance host (seconds), so tests need not wait long
MAINTENANCE_GRACE = 3.0


#: the local engine under its own name, with short cleanup/reconcile ages and a tiny
#: image budget (so any eligible image is evicted), and the pin ``pinned-*``
maintenance_host = local_host(
    "tm",
    scope="session",
    DOCKFLEET_CLEANUP__CONTAINER_GRACE=str(MAINTENANCE_GRACE),
    DOCKFLEET_CLEANUP__NETWORK_GRACE=str(MAINTENANCE_GRACE),
    DOCKFLEET_CLEANUP__ORPHAN_GRACE=str(MAINTENANCE_GRACE),
    DOCKFLEET_CLEANUP__IMAGE_MIN_AGE="3600",
    DOCKFLEET_CLEANUP__IMAGE_BUDGET_BYTES="1",
    DOCKFLEET_CLEANUP__IMAGE_PINS='["dockfleet-test-pinned-*"]',
)


@pytest.fixture(scope="session")
def client_settings(redis_url: str, policy: SecurityPolicy) -> Settings:
    return Settings(
        redis_url=redis_url,
        heartbeat_interval=HEARTBEAT,
        default_timeout=20,
        policy=policy,
        state_resync_interval=3,
    )


@pytest.fixture(scope="session")
def session_fleet(client_settings: Settings) -> Iterator[Fleet]:
    fleet = Fleet(client_settings)
    yield fleet
    fleet.close()


@pytest.fixture
def fleet(session_fleet: Fleet, host_a: Host, local_engine: docker.DockerClient) -> Iterator[Fleet]:
    """The client, with host A up; whatever a test leaves on host A is removed after it."""
    yield session_fleet
    remove_host_objects(host_a)
    for container in local_engine.containers.list(all=True, filters={"label": TEST_LABEL}):
        container.remove(force=True)
