"""Flower: with basic auth, it lists a host's worker and queues, masks secrets (a retried
task's too), and renders.

The dashboard screenshot is kept at ``artifacts/flower-dashboard.png`` (the
test prints the path) for a person, or CI, to look at.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator

import docker
import pytest

from dockfleet import ContainerConfig, ContainerInfo, Fleet, JobSpec
from dockfleet.policy_model import SecurityPolicy
from dockfleet.queues import MAINTENANCE_QUEUE, SHARED_QUEUE, TaskNames, host_queue
from tests.conftest import LOCAL_DOCKER, TEST_IMAGE, Host, running_host
from tests.support.faulty_engine import faulty_engine
from tests.support.flower import USER, CeleryEvents, Flower
from tests.support.services import REPO, require, wait_for

pytestmark = pytest.mark.engine
ARTIFACTS = REPO / "artifacts"


@pytest.fixture(scope="module")
def flower(redis_url: str, host_a: Host) -> Iterator[Flower]:
    server = Flower(redis_url)
    yield server
    server.stop()


def test_api_needs_the_credentials(flower: Flower) -> None:
    assert flower.get("/api/workers", auth=False)[0] == 401
    assert flower.get("/", auth=False)[0] == 401
    assert flower.get("/api/workers")[0] == 200


def test_workers_lists_the_hosts_worker_and_its_queues(flower: Flower, host_a: Host) -> None:
    # The worker is named after its Docker host
    worker = host_a.workers[0].name
    assert worker.startswith(f"{host_a.name}-")

    status, workers = flower.get("/api/workers?refresh=1")

    assert status == 200 and worker in workers
    queues = {q["name"] for q in workers[worker]["active_queues"]}
    assert queues == {host_queue(host_a.name), SHARED_QUEUE, MAINTENANCE_QUEUE}
    assert "dockfleet.jobs.run" in workers[worker]["registered"]


def test_task_arguments_shown_for_a_job_mask_its_secret(
    flower: Flower, fleet: Fleet, host_a: Host
) -> None:
    # Given a job with a secret env value, run while Flower watches
    secret = "s3cr3t-" + secrets.token_hex(6)
    spec = JobSpec(
        container=ContainerConfig(image=TEST_IMAGE, cmd=["sh", "-c", "test -n $TOKEN"]),
        secret_env={"TOKEN": secret},
        host=host_a.name,
    )
    result = fleet.run_job(spec).wait(timeout=60)
    assert result.status == "succeeded"

    # When Flower shows the task (its success event comes just after the result)
    def finished() -> bool:
        status, task = flower.get(f"/api/task/info/{result.job_id}")
        return status == 200 and task["state"] == "SUCCESS"

    wait_for(finished, 20, "the finished task in Flower")
    _, task = flower.get(f"/api/task/info/{result.job_id}")

    # Then it has a readable name and its arguments show the secret as *** only
    assert task["name"] == "dockfleet.jobs.run"
    assert "TOKEN" in task["args"] and "***" in task["args"]
    assert secret not in json.dumps(task)
    assert secret not in flower.get(f"/task/{result.job_id}")[1]


def test_a_retried_create_never_shows_its_secret_in_flower_or_the_task_events(
    flower: Flower,
    fleet: Fleet,
    redis_url: str,
    policy: SecurityPolicy,
    local_engine: docker.DockerClient,
) -> None:
    # Given a host whose engine answers the first create with a 503 (EngineBusy, transient),
    # with Celery's own event receiver recording every event of the fleet
    secret = "s3cr3t-" + secrets.token_hex(8)
    config = ContainerConfig(
        image=TEST_IMAGE,
        cmd=["true"],
        secret_env={"TOKEN": secret},
    )
    with (
        faulty_engine(LOCAL_DOCKER) as engine,
        running_host("tr", redis_url, policy, local_engine, docker_url=engine.url) as host,
        CeleryEvents(redis_url) as recorded,
    ):
        engine.hold_next_create()  # the retry's create waits while the test looks

        # When a create with a secret env value is sent to it (and so retried once)
        created: list[ContainerInfo] = []
        sender = threading.Thread(
            target=lambda: created.append(fleet.create_container(config, host=host.name))
        )
        sender.start()
        assert engine.wait_holding(30), host.workers[0].log_tail()
        # Then while the retried task is active, the worker's page in Flower does not
        # show the value (Celery's inspect would give the raw arguments)
        worker = host.workers[0].name
        status, workers = flower.get(f"/api/workers?workername={worker}&refresh=1")
        assert status == 200 and workers[worker]["active"], workers
        assert "***" in json.dumps(workers[worker]["active"])
        assert secret not in json.dumps(workers)
        engine.release()
        sender.join(30)

        assert engine.failed == 1 and created and "TOKEN=***" in created[0].env
        task_id = next(e["uuid"] for e in recorded.events if e["type"] == "task-retried")

        def in_flower() -> bool:
            status, task = flower.get(f"/api/task/info/{task_id}")
            return status == 200 and task["state"] == "SUCCESS"

        wait_for(in_flower, 20, "the retried task's success in Flower")

    # And the task, as Flower lists it, shows its arguments masked, retry included
    _, task = flower.get(f"/api/task/info/{task_id}")
    assert task["name"] == TaskNames.CREATE and task["retries"] == 1
    assert "TOKEN" in task["args"] and "***" in task["args"]
    _, tasks = flower.get("/api/tasks")
    assert task_id in tasks and secret not in json.dumps(tasks)
    assert secret not in flower.get(f"/task/{task_id}")[1]
    # And no event of it carries the value: sent twice (by the client, then by the retry),
    # received twice, retried once, succeeded once
    events = recorded.of_task(task_id)
    kinds = [e["type"] for e in events]
    assert kinds.count("task-sent") == 2 and kinds.count("task-received") == 2, kinds
    assert "task-retried" in kinds and "task-succeeded" in kinds
    assert all("***" in e["args"] for e in events if e["type"] in ("task-sent", "task-received"))
    assert secret not in json.dumps(events)
    assert secret not in json.dumps(recorded.events)
    # And neither does the worker's log
    assert secret not in host.workers[0].log_path.read_text(errors="replace")


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("chromium")
    require(binary is not None, "chromium (apt-get install chromium)")
    assert binary is not None
    profile = tempfile.mkdtemp(prefix="dockfleet-chromium-")
    try:
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic"]
        flags += ["--no-first-run", "--disable-background-networking"]
        flags += ["--disable-component-update", "--disable-sync", f"--user-data-dir={profile}"]
        flags += ["--virtual-time-budget=5000", "--window-size=1280,900"]
        return subprocess.run(
            [binary, *flags, *args], capture_output=True, text=True, timeout=90, check=False
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def test_dashboard_screenshot(
    flower: Flower, host_a: Host, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the dashboard, with the credentials in the URL (basic auth)
    url = f"http://{USER}:{flower.password}@127.0.0.1:{flower.port}/"

    # Then a headless browser renders it with the host's worker in it
    dom = chromium("--dump-dom", url)
    assert host_a.workers[0].name in dom.stdout, dom.stderr[-2000:]

    # And a screenshot of it is kept for a person to look at
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / "flower-dashboard.png"
    target.unlink(missing_ok=True)
    started = time.monotonic()
    shot = chromium(f"--screenshot={target}", url)
    assert target.exists(), shot.stderr[-2000:]
    png = target.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1280, 900)
    assert len(png) > 20_000  # a rendered page, not a blank one
    with capsys.disabled():
        print(f"\nFlower dashboard screenshot ({time.monotonic() - started:.1f}s): {target}")
