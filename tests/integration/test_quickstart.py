"""The original manager's quick-start flow, through the fleet, on a real engine."""

from __future__ import annotations

import json
import os
import subprocess
import time

import docker
import pytest

from dockfleet import ContainerConfig, Fleet, LogOptions
from tests.conftest import LOCAL_DOCKER, Host
from tests.support.services import free_port, wait_for

MIB = 1024 * 1024


def docker_inspect(container_id: str) -> dict:  # type: ignore[type-arg]
    """What the real docker CLI says, independent of dockfleet's own reading."""
    out = subprocess.run(
        ["docker", "-H", LOCAL_DOCKER, "inspect", container_id],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)[0]  # type: ignore[no-any-return]


def test_quickstart_flow_create_start_stats_logs_stop_remove(
    fleet: Fleet, host_a: Host, bind_root: str, local_engine: docker.DockerClient
) -> None:
    # Given a spec with every field of the original quick start
    data_dir = os.path.join(bind_root, "quickstart")
    os.makedirs(data_dir, exist_ok=True)
    port = free_port()
    config = ContainerConfig(
        name=f"quickstart-{host_a.name}",
        image="busybox",
        tag="local",
        cmd=["sh", "-c", "echo to-stdout; echo to-stderr >&2; echo $GREETING; sleep 300"],
        env=["GREETING=hello-fleet"],
        cpu_limit=1.0,
        memory_limit=512 * MIB,
        volumes={data_dir: "/data"},
        ports={f"127.0.0.1:{port}": "80"},
    )

    # When it is created and started through the fleet
    created = fleet.create_container(config, host=host_a.name)
    assert created.host == host_a.name
    assert created.status == "created"
    started = fleet.start_container(created.id)
    assert started.status == "running"

    # Then the real docker CLI confirms limits, bind, port, labels and security defaults
    doc = docker_inspect(created.id)
    host_config = doc["HostConfig"]
    assert host_config["NanoCpus"] == 1_000_000_000
    assert host_config["Memory"] == 512 * MIB
    assert host_config["Binds"] == [f"{data_dir}:/data:rw"]
    assert host_config["PortBindings"] == {
        "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]
    }
    assert host_config["CapDrop"] == ["ALL"]
    assert "no-new-privileges:true" in host_config["SecurityOpt"]
    assert host_config["PidsLimit"] == 512
    assert host_config["Privileged"] is False
    assert doc["Config"]["User"] == "65534:65534"
    labels = doc["Config"]["Labels"]
    assert labels["dockfleet.managed"] == "true"
    assert labels["dockfleet.host"] == host_a.name
    assert labels["dockfleet.created"]

    # And its stats are read through the fleet
    stats = fleet.get_container_stats(created.id)
    assert stats.id == created.id
    assert stats.memory_limit == 512 * MIB
    assert 0 < stats.memory_usage < 512 * MIB
    assert stats.pids >= 1

    # And its logs come back with stdout and stderr apart
    def lines(options: LogOptions) -> list[tuple[str, str]]:
        return [(ln.stream, ln.line) for ln in fleet.get_container_logs(created.name, options)]

    wait_for(lambda: len(lines(LogOptions())) == 3, 10, "three log lines")
    # (the engine copies the two streams apart, so only each stream's own order is fixed)
    every = lines(LogOptions())
    assert [line for stream, line in every if stream == "stdout"] == ["to-stdout", "hello-fleet"]
    assert [line for stream, line in every if stream == "stderr"] == ["to-stderr"]
    assert lines(LogOptions(show_stderr=False)) == [
        ("stdout", "to-stdout"),
        ("stdout", "hello-fleet"),
    ]
    assert lines(LogOptions(show_stdout=False)) == [("stderr", "to-stderr")]
    assert len(lines(LogOptions(tail=1))) == 1

    # When it is stopped with a short timeout (sh ignores SIGTERM, so it is killed)
    began = time.monotonic()
    stopped = fleet.stop_container(created.id, timeout=1)
    assert stopped.status == "exited"
    assert time.monotonic() - began < 10

    # Then it is removed, and gone from the engine
    removed = fleet.remove_container(created.id)
    assert removed.removed is True
    with pytest.raises(docker.errors.NotFound):
        local_engine.containers.get(created.id)


def test_follow_streams_lines_as_they_come_and_ends_when_the_container_exits(
    fleet: Fleet, host_a: Host
) -> None:
    # Given a container that prints a line every 0.2 s, then exits
    script = "for i in 1 2 3 4 5; do echo line-$i; sleep 0.2; done; echo bye >&2"
    info = fleet.create_container(
        ContainerConfig(image="busybox:local", cmd=["sh", "-c", script]), host=host_a.name
    )
    fleet.start_container(info.id)

    # When its log is followed
    seen = [
        (ln.stream, ln.line) for ln in fleet.get_container_logs(info.id, LogOptions(follow=True))
    ]

    # Then every line arrives once, in order, and the iterator ends with the container
    assert seen == [("stdout", f"line-{i}") for i in range(1, 6)] + [("stderr", "bye")]
    assert fleet.wait_container(info.id, timeout=10).exit_code == 0


def test_closing_a_follow_early_stops_the_worker_copy(fleet: Fleet, host_a: Host) -> None:
    # Given a container that prints forever
    info = fleet.create_container(
        ContainerConfig(
            image="busybox:local", cmd=["sh", "-c", "while true; do echo x; sleep 0.1; done"]
        ),
        host=host_a.name,
    )
    fleet.start_container(info.id)

    # When a reader follows, takes three lines and walks away
    lines = fleet.get_container_logs(info.id, LogOptions(follow=True))
    taken = [next(lines).line for _ in range(3)]
    lines.close()
    assert taken == ["x", "x", "x"]

    # Then the worker stops copying: a later call is served at once (no thread stuck)
    began = time.monotonic()
    assert fleet.inspect_container(info.id).status == "running"
    assert time.monotonic() - began < 5
    redis = fleet.transport.redis
    wait_for(
        lambda: not list(redis.scan_iter("dockfleet:logstream:*")), 10, "log stream cleaned up"
    )


def test_wait_reports_the_exit_code_and_oom_flag(fleet: Fleet, host_a: Host) -> None:
    info = fleet.create_container(
        ContainerConfig(image="busybox:local", cmd=["sh", "-c", "exit 7"]), host=host_a.name
    )
    fleet.start_container(info.id)
    result = fleet.wait_container(info.id, timeout=10)
    assert (result.exit_code, result.oom_killed, result.host) == (7, False, host_a.name)
    assert fleet.inspect_container(info.id).exit_code == 7


def test_secret_env_is_masked_in_inspect_and_logs(fleet: Fleet, host_a: Host) -> None:
    config = ContainerConfig(
        image="busybox:local",
        cmd=["sh", "-c", "echo token is $TOKEN"],
        secret_env={"TOKEN": "s3cr3t-value"},
    )
    info = fleet.create_container(config, host=host_a.name)
    assert "TOKEN=***" in info.env
    assert "s3cr3t-value" not in info.model_dump_json()
    fleet.start_container(info.id)
    fleet.wait_container(info.id, timeout=10)
    assert [ln.line for ln in fleet.get_container_logs(info.id)] == ["token is ***"]

    # And nothing the fleet stored in Redis (results, index, streams) holds the value
    redis = fleet.transport.redis
    for key in redis.scan_iter("*"):
        kind = redis.type(key)
        if kind == "string":
            stored = str(redis.get(key))
        elif kind == "hash":
            stored = str(redis.hgetall(key))
        elif kind == "list":
            stored = str(redis.lrange(key, 0, -1))
        elif kind == "set":
            stored = str(redis.smembers(key))
        else:
            continue
        assert "s3cr3t-value" not in stored, key
