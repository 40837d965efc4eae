"""A 300 MiB workspace of 20,000 files through the fleet: Redis never holds more than the
window (``INFO memory`` sampled all along), and a Redis crash mid-upload (AOF, fsync always)
costs a pause, not the job: both ends resume where they were.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import redis

from dockfleet import Fleet, JobSpec, Settings
from dockfleet.policy_model import SecurityPolicy
from dockfleet.store import transfers
from tests.conftest import HEARTBEAT, LOCAL_DOCKER, TEST_IMAGE, random_name, worker_env
from tests.support.redis_memory import MemorySampler
from tests.support.services import RedisServer, WorkerProcess, wait_for

pytestmark = pytest.mark.chaos
MIB = 1024 * 1024
WINDOW = 32 * MIB
#: what Redis may hold beyond the window: one chunk in a query buffer, one in a reply, its
#: allocator's rounding
MARGIN = 8 * MIB
#: the job's own check of what arrived: how many files, and a digest of them all in order
CHECK = "find . -type f | sort | tee /tmp/files | wc -l; cat $(cat /tmp/files) | md5sum"


def workspace(root: Path, small: int, small_bytes: int, big: int, big_bytes: int) -> Path:
    """`small` files of `small_bytes` in 100 folders, and `big` files of `big_bytes`."""
    root.mkdir()
    for i in range(small):
        folder = root / f"d{i % 100:02}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i:05}.dat").write_bytes(os.urandom(small_bytes))
    for i in range(big):
        (root / f"big{i}.bin").write_bytes(os.urandom(big_bytes))
    return root


def expected(root: Path) -> list[str]:
    files = sorted("./" + p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    digest = hashlib.md5()
    for name in files:
        digest.update((root / name).read_bytes())
    return [str(len(files)), f"{digest.hexdigest()}  -"]


@pytest.fixture
def fleet_on_private_redis(
    persistent_redis: RedisServer, local_engine: docker.DockerClient, policy: SecurityPolicy
) -> Iterator[tuple[Fleet, str, RedisServer]]:
    host = random_name("tx")
    env = worker_env(persistent_redis.url, LOCAL_DOCKER, policy)
    worker = WorkerProcess(host, env).start()
    worker.wait_ready(persistent_redis.url)
    settings = Settings(redis_url=persistent_redis.url, heartbeat_interval=HEARTBEAT, policy=policy)
    fleet = Fleet(settings)
    yield fleet, host, persistent_redis
    fleet.close()
    worker.stop()
    for container in local_engine.containers.list(
        all=True, filters={"label": f"dockfleet.host={host}"}
    ):
        container.remove(force=True)


def test_a_300_mib_workspace_of_20000_files_keeps_redis_below_the_window(
    fleet_on_private_redis: tuple[Fleet, str, RedisServer], tmp_path: Path
) -> None:
    # Given 300 MiB in 20,000 files (19,990 of 10 KiB, 10 of 10.5 MiB)
    fleet, host, server = fleet_on_private_redis
    root = workspace(tmp_path / "ws", 19_990, 10 * 1024, 10, int(10.5 * MIB))

    # When a job gets it as its workspace, Redis's memory sampled all along
    spec = JobSpec(
        container={"image": TEST_IMAGE, "cmd": ["sh", "-c", CHECK]}, host=host, workspace=str(root)
    )
    started = time.monotonic()
    with MemorySampler(server.url) as memory:
        handle = fleet.run_job(spec)
    upload = time.monotonic() - started
    result = handle.wait(120)

    # Then every file arrived intact, and Redis never held more than the window and a margin
    assert result.status == "succeeded", result.error
    assert [line.line for line in handle.logs(follow=False)] == expected(root)
    peak = memory.peak
    print(f"upload {upload:.1f}s, {len(memory.samples)} samples, peak {peak / MIB:.1f} MiB")
    assert len(memory.samples) > 20
    assert peak < WINDOW + MARGIN


def test_a_redis_crash_mid_upload_pauses_the_transfer_and_loses_nothing(
    fleet_on_private_redis: tuple[Fleet, str, RedisServer], tmp_path: Path
) -> None:
    # Given a 200 MiB workspace on its way through a 4 MiB window
    fleet, host, server = fleet_on_private_redis
    root = workspace(tmp_path / "ws", 0, 0, 50, 4 * MIB)
    settings = fleet.settings.model_copy(update={"transfer_window": 4 * MIB})
    spec = JobSpec(container={"image": TEST_IMAGE, "cmd": ["sh", "-c", CHECK]}, host=host,
                   workspace=str(root))  # fmt: skip
    handles = []
    sender = Fleet(settings)
    client = threading.Thread(target=lambda: handles.append(sender.run_job(spec)))
    client.start()
    probe = redis.Redis.from_url(server.url)

    def under_way() -> bool:
        found = [k.decode() for k in probe.keys("dockfleet:transfer:*.workspace")]
        ids = [k.split(":")[2] for k in found]
        return any((s := transfers.status(probe, i)) is not None and s.acked > 3 for i in ids)

    wait_for(under_way, 60, "the upload to be under way")

    # When Redis is killed (SIGKILL) and comes back a second later from its AOF
    server.kill()
    time.sleep(1)
    server.process = None
    server.start()

    # Then the upload goes on where it was, and the job gets its workspace whole
    client.join(120)
    assert handles, "the client gave up"
    result = handles[0].wait(120)
    assert result.status == "succeeded", result.error
    assert [line.line for line in handles[0].logs(follow=False)] == expected(root)
    sender.close()
    probe.close()
