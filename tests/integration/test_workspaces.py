"""Workspaces through real workers and Redis: a folder in, checked, owned, windowed, or refused."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import docker
import redis

from dockfleet import Fleet, JobSpec
from dockfleet.store import transfers
from tests.conftest import TEST_IMAGE, Host
from tests.support.redis_memory import MemorySampler
from tests.support.refusals import creates_since

DOCKFLEET = str(Path(sys.executable).with_name("dockfleet"))
MIB = 1024 * 1024


def workspace_job(host: str, script: str, source: Path, **fields: object) -> JobSpec:
    container = {"image": TEST_IMAGE, "cmd": ["sh", "-c", script]}
    return JobSpec.model_validate(
        {"container": container, "host": host, "workspace": str(source), **fields}
    )


def transfer_keys(redis_url: str, job_id: str = "*") -> list[bytes]:
    client = redis.Redis.from_url(redis_url)
    try:
        return list(client.keys(f"dockfleet:transfer:{transfers.job_workspace(job_id)}*"))
    finally:
        client.close()


def created_on(engine: docker.DockerClient, host: str, since_ns: int) -> list[str]:
    """Names of the containers the fleet created on `host` since then."""
    made = creates_since(engine, since_ns, kinds=("container",), label=f"dockfleet.host={host}")
    return [e["Actor"]["Attributes"]["name"] for e in made]


def test_a_workspace_arrives_with_its_modes_and_links_owned_by_the_job_user(
    fleet: Fleet, host_a: Host, tmp_path: Path
) -> None:
    # Given a folder with an executable, symlinks in and out of it, and a .dockerignore
    source = tmp_path / "src"
    (source / "lib").mkdir(parents=True)
    (source / "lib" / "util.sh").write_text("echo util\n")
    (source / "run.sh").write_text("#!/bin/sh\necho ran\n")
    (source / "run.sh").chmod(0o750)
    (source / "to-etc").symlink_to("/etc")
    (source / "to-lib").symlink_to("lib")
    (source / "id.key").write_text("secret")
    (source / "build").mkdir()
    (source / "build" / "out.o").write_text("object")
    (source / ".dockerignore").write_text("*.key\nbuild\n")

    # When a job lists it from its working directory and writes into it
    script = (
        "pwd; ./run.sh; stat -c '%a %u:%g %n' run.sh lib lib/util.sh;"
        " readlink to-etc; readlink to-lib; ls -A | sort | tr '\\n' ' '; echo;"
        " cat to-lib/util.sh; touch mine && echo writable"
    )
    handle = fleet.run_job(workspace_job(host_a.name, script, source))
    result = handle.wait(60)

    # Then it was all there, at /workspace, its working directory, before the job started
    lines = [line.line for line in handle.logs(follow=False)]
    assert result.status == "succeeded", (result.error, lines)
    assert lines[:2] == ["/workspace", "ran"]
    # And modes are kept and every file belongs to the job's user (the policy's default)
    assert lines[2:5] == ["750 65534:65534 run.sh", "755 65534:65534 lib",
                          "644 65534:65534 lib/util.sh"]  # fmt: skip
    # And symlinks arrived as symlinks, the one out of the tree not followed
    assert lines[5:7] == ["/etc", "lib"]
    # And what .dockerignore excludes stayed behind
    assert lines[7].split() == [".dockerignore", "lib", "run.sh", "to-etc", "to-lib"]
    assert lines[8:] == ["echo util", "writable"]


def test_a_workspace_over_the_cap_is_refused_before_anything_runs(
    fleet: Fleet,
    host_a: Host,
    redis_url: str,
    local_engine: docker.DockerClient,
    tmp_path: Path,
) -> None:
    # Given a folder of 2 MiB and a cap of 1 MiB
    source = tmp_path / "big"
    source.mkdir()
    (source / "data.bin").write_bytes(os.urandom(2 * MIB))
    env = {
        **os.environ,
        "DOCKFLEET_REDIS_URL": redis_url,
        "DOCKFLEET_WORKSPACE_MAX_BYTES": str(MIB),
    }
    since_ns = time.time_ns()
    keys_before = transfer_keys(redis_url)

    # When a pipeline step runs a job with it
    step = subprocess.run(
        [DOCKFLEET, "run", "--host", host_a.name, "--workspace", str(source), TEST_IMAGE],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )

    # Then it fails as the fleet failing (125), saying which setting raises the cap
    assert step.returncode == 125, step.stderr
    assert "over 1048576 bytes" in step.stderr and "DOCKFLEET_WORKSPACE_MAX_BYTES" in step.stderr
    # And nothing was sent or made: no transfer, no container
    assert transfer_keys(redis_url) == keys_before
    assert created_on(local_engine, host_a.name, since_ns) == []


def test_redis_holds_no_more_than_the_window_while_a_workspace_streams(
    fleet: Fleet, host_a: Host, redis_url: str, tmp_path: Path
) -> None:
    # Given a 64 MiB workspace and a client whose window is 4 MiB
    source = tmp_path / "ws"
    source.mkdir()
    for i in range(16):
        (source / f"part-{i}.bin").write_bytes(os.urandom(4 * MIB))
    window = 4 * MIB
    settings = fleet.settings.model_copy(update={"transfer_window": window})

    # When it is sent while Redis's memory is sampled
    script = "cat part-* | md5sum | cut -d' ' -f1"
    with MemorySampler(redis_url, interval=0.005) as memory, Fleet(settings) as client:
        handle = client.run_job(workspace_job(host_a.name, script, source))
    result = handle.wait(60)

    # Then it all arrived, and Redis never held much more than the window
    assert result.status == "succeeded", result.error
    digest = hashlib.md5(b"".join(p.read_bytes() for p in sorted(source.glob("part-*"))))
    assert [line.line for line in handle.logs(follow=False)] == [digest.hexdigest()]
    print(json.dumps({"samples": len(memory.samples), "peak_mib": memory.peak / MIB}))
    assert len(memory.samples) > 10
    assert memory.peak < window + 4 * MIB
