"""An interrupted workspace upload: no key left behind, no job half started, one clear report."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import docker
import pytest
import redis

from dockfleet import Fleet, JobHandle, JobSpec
from dockfleet.client import folder_tar
from dockfleet.client.folder_tar import FolderTar
from dockfleet.store import host_records, transfers
from tests.conftest import TEST_IMAGE
from tests.support.services import wait_for
from tests.support.worker_hosts import WorkerHost, bare_host

DOCKFLEET = str(Path(sys.executable).with_name("dockfleet"))
MIB = 1024 * 1024
#: short enough for a test to wait out: a dead end's keys expire this long after it died
IDLE_SECONDS = 3


quiet_host = bare_host(
    "tw", DOCKFLEET_JOB_LEASE_SECONDS="3", DOCKFLEET_TRANSFER_IDLE_SECONDS=str(IDLE_SECONDS)
)


def big_folder(path: Path, mib: int) -> Path:
    path.mkdir()
    for i in range(mib):
        (path / f"f{i:03}.bin").write_bytes(os.urandom(MIB))
    return path


def workspace_transfers(client: redis.Redis) -> list[str]:
    """Ids of the jobs with a workspace transfer in Redis."""
    found = client.keys("dockfleet:transfer:*.workspace")
    return [k.decode().split(":")[2].removesuffix(".workspace") for k in found]


def container_events(
    engine: docker.DockerClient, job_id: str, since: datetime, event: str
) -> list[str]:
    events = engine.events(
        since=since,
        until=datetime.now(UTC),
        decode=True,
        filters={"type": "container", "event": event, "label": f"dockfleet.job={job_id}"},
    )
    return [e["Actor"]["Attributes"]["name"] for e in events]


def test_a_client_killed_mid_upload_leaves_no_key_and_its_job_fails_before_it_runs(
    fleet: Fleet,
    redis_url: str,
    local_engine: docker.DockerClient,
    quiet_host: WorkerHost,
    tmp_path: Path,
) -> None:
    # Given a pipeline step sending a 16 MiB workspace through a 1 MiB window to a host
    # whose worker is down (it beat an hour ago), so the client waits with a full window
    host = quiet_host
    since = datetime.now(UTC)
    source = big_folder(tmp_path / "ws", 16)
    client = redis.Redis.from_url(redis_url)
    host_records.write_beat(client, host.name, "celery@gone", time.time() - 3600, engine=None)
    before = set(workspace_transfers(client))
    step_env = {
        **os.environ,
        "DOCKFLEET_REDIS_URL": redis_url,
        "DOCKFLEET_TRANSFER_WINDOW": str(MIB),
        "DOCKFLEET_TRANSFER_IDLE_SECONDS": str(IDLE_SECONDS),
    }
    step = subprocess.Popen(
        [DOCKFLEET, "run", "--host", host.name, "--workspace", str(source), TEST_IMAGE]
        + ["--", "echo", "ran"],
        env=step_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def window_full() -> bool:
        new = set(workspace_transfers(client)) - before
        status = transfers.status(client, transfers.job_workspace(next(iter(new))))
        # One chunk (a little under 1 MiB) fills a 1 MiB window: the client waits after it.
        return status is not None and status.sent_chunks >= 1

    wait_for(window_full, 30, "the client to fill its window")
    (job_id,) = set(workspace_transfers(client)) - before

    # When the client is killed with SIGKILL mid-upload
    step.send_signal(signal.SIGKILL)
    step.wait(10)

    # Then its transfer's keys are all gone once their TTL has passed
    time.sleep(IDLE_SECONDS + 1)
    assert client.keys(f"dockfleet:transfer:{transfers.job_workspace(job_id)}*") == []
    # And when a worker takes the job, it fails clearly, and its container never started
    host.start_worker()
    result = JobHandle(fleet.transport, job_id).wait(60)
    assert result.status == "error"
    assert result.error is not None and "gone from Redis" in result.error
    assert container_events(local_engine, job_id, since, "start") == []
    assert host.ends(job_id) == 1
    client.close()


def test_a_worker_killed_mid_upload_is_adopted_and_its_job_reports_once(
    fleet: Fleet,
    redis_url: str,
    local_engine: docker.DockerClient,
    quiet_host: WorkerHost,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a slow client (a slow network: 20 MiB/s) sending a 24 MiB workspace to a worker
    host = quiet_host
    since = datetime.now(UTC)
    first = host.start_worker()
    source = big_folder(tmp_path / "ws", 24)
    unthrottled = folder_tar.chunks

    def throttled(tar: FolderTar, chunk_bytes: int) -> Iterator[bytes]:
        for chunk in unthrottled(tar, chunk_bytes):
            time.sleep(len(chunk) / (20 * MIB))
            yield chunk

    monkeypatch.setattr(folder_tar, "chunks", throttled)
    spec = JobSpec.model_validate(
        {
            "container": {"image": TEST_IMAGE, "cmd": ["echo", "ran"]},
            "host": host.name,
            "workspace": str(source),
        }
    )
    handles: list[JobHandle] = []
    client = threading.Thread(target=lambda: handles.append(fleet.run_job(spec)))
    client.start()
    redis_client = redis.Redis.from_url(redis_url)

    def taking() -> bool:
        found = workspace_transfers(redis_client)
        statuses = [transfers.status(redis_client, transfers.job_workspace(j)) for j in found]
        return any(s is not None and s.state == "open" and s.acked > 2 for s in statuses)

    wait_for(taking, 30, "the worker to take chunks")

    # When the worker is killed with SIGKILL mid-upload, and another comes up
    first.kill()
    host.start_worker()

    # Then the job is adopted and fails once, clearly; the upload is not started twice
    client.join(90)
    assert not client.is_alive() and len(handles) == 1
    result = handles[0].wait(60)
    assert result.status == "error" and result.adopted
    assert result.error is not None and "the upload was cut after" in result.error
    job_id = handles[0].id
    assert container_events(local_engine, job_id, since, "create") == [f"dfj-{job_id}"]
    assert container_events(local_engine, job_id, since, "start") == []
    assert host.ends(job_id) == 1
    # And the chunks left Redis with the abort
    assert redis_client.exists(f"dockfleet:transfer:{transfers.job_workspace(job_id)}:data") == 0
    redis_client.close()
