"""Flower: with basic auth, it lists a host's worker and queues, masks secrets, and renders.

The dashboard screenshot is kept at ``artifacts/flower-dashboard.png`` (the
test prints the path) for a person, or CI, to look at.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dockfleet import ContainerConfig, Fleet, JobSpec
from dockfleet.queues import MAINTENANCE_QUEUE, SHARED_QUEUE, host_queue
from tests.conftest import TEST_IMAGE, Host
from tests.support.services import REPO, free_port, require, wait_for

pytestmark = pytest.mark.engine
ARTIFACTS = REPO / "artifacts"
USER = "fleet-admin"


class Flower:
    def __init__(self, redis_url: str) -> None:
        self.port = free_port()
        self.password = secrets.token_urlsafe(12)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(tempfile.gettempdir()) / f"flower-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWER_")}
        env.update(DOCKFLEET_REDIS_URL=redis_url, FLOWER_BASIC_AUTH=f"{USER}:{self.password}")
        args = [sys.executable, "-m", "celery", "-A", "worker.app", "flower"]
        args += ["--address=127.0.0.1", f"--port={self.port}"]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_for(lambda: self.get("/healthcheck", auth=False)[0] == 200, 60, "Flower")

    def get(self, path: str, auth: bool = True) -> tuple[int, Any]:
        request = urllib.request.Request(self.url + path)
        if auth:
            token = base64.b64encode(f"{USER}:{self.password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                body = response.read()
                kind = response.headers.get("Content-Type", "")
                return response.status, json.loads(body) if "json" in kind else body.decode()
        except urllib.error.HTTPError as exc:
            return exc.code, None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.log_path.unlink(missing_ok=True)


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
