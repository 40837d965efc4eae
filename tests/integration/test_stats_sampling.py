"""Stats sweeps on a real engine and Redis: cgroup and API modes, CPU %, capped history,
latest view, the stats channel and `Fleet.get_container_stats` from fresh samples."""

from __future__ import annotations

import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
import pytest
import redis

from dockfleet import Fleet, Settings, keys
from tests.conftest import LOCAL_DOCKER, Host
from tests.support import planting
from tests.support.sweeps import running_container, sweep
from worker.maintenance import stats_sweep
from worker.runtime import Runtime

SWEEP_CONTAINERS = 20


def _runtime(redis_url: str, host: str, **settings: object) -> Runtime:
    return Runtime(
        Settings(redis_url=redis_url, docker_host=LOCAL_DOCKER, host_name=host, **settings)  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def swept_host(local_engine: docker.DockerClient) -> Iterator[tuple[str, list[str]]]:
    """A host name with 20 running fleet containers on the local engine."""
    host = f"ts-{secrets.token_hex(3)}"
    labels = planting.fleet_labels_for(host)
    with ThreadPoolExecutor(4) as pool:
        made = list(
            pool.map(lambda _: planting.container(local_engine, labels), range(SWEEP_CONTAINERS))
        )
    yield host, [c.id for c in made]
    for c in local_engine.containers.list(all=True, filters={"label": f"dockfleet.host={host}"}):
        c.remove(force=True)


@pytest.mark.parametrize("mode", ["auto", "api"])
def test_one_sweep_samples_twenty_running_containers_and_reports_its_mode(
    redis_url: str, swept_host: tuple[str, list[str]], mode: str
) -> None:
    # Given 20 running fleet containers on a host whose cgroups this machine sees
    host, ids = swept_host
    rt = _runtime(redis_url, host, stats_mode=mode)

    # When the host is swept (twice: the second has a previous sample to diff)
    stats_sweep.sweep(rt)
    result = stats_sweep.sweep(rt)

    # Then every container is sampled in the expected mode, and the registry says which
    expected = "cgroup" if mode == "auto" else "api"
    print(
        f"\nsweep of {result.containers} containers in {result.mode} mode: "
        f"{result.duration_ms:.1f} ms wall"
    )
    assert result.mode == expected and result.containers == SWEEP_CONTAINERS
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    assert client.hget(keys.host(host), "sampling_mode") == expected
    latest = client.hgetall(keys.stats_latest(host))
    assert sorted(latest) == sorted(ids)
    sample = stats_sweep.ContainerStats.model_validate_json(latest[ids[0]])
    assert sample.mode == expected and sample.pids >= 1 and sample.memory_usage > 0
    assert sample.memory_limit > 0 and sample.name


@pytest.mark.parametrize("mode", ["auto", "api"])
def test_cpu_percent_of_a_busy_loop_is_near_its_cpu_limit(
    redis_url: str, local_engine: docker.DockerClient, mode: str
) -> None:
    # Given a container spinning at a limit of half a core
    host = f"tc-{secrets.token_hex(3)}"
    spinner = planting.busy(local_engine, planting.fleet_labels_for(host), cpus=0.5)
    try:
        rt = _runtime(redis_url, host, stats_mode=mode)
        # When two sweeps two seconds apart measure it
        stats_sweep.sweep(rt)
        time.sleep(2)
        stats_sweep.sweep(rt)
        client = redis.Redis.from_url(redis_url, decode_responses=True)
        doc = client.hget(keys.stats_latest(host), spinner.id)
        assert doc is not None
        cpu = stats_sweep.ContainerStats.model_validate_json(doc).cpu_usage
        # Then its CPU % is about 50 (one core = 100)
        print(f"\nbusy loop limited to 0.5 CPU measured {cpu:.1f}% in {mode} mode")
        assert 35.0 <= cpu <= 60.0
    finally:
        spinner.remove(force=True)


def test_history_stays_at_its_cap_and_keys_expire_after_the_container_is_gone(
    redis_url: str, local_engine: docker.DockerClient
) -> None:
    # Given a host whose history is capped at 5 samples per container
    host = f"th-{secrets.token_hex(3)}"
    running = planting.container(local_engine, planting.fleet_labels_for(host))
    retention = {"stats_samples_per_container": 5, "stats_seconds": 60}
    rt = _runtime(redis_url, host, retention=retention)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        # When it is swept many more times than the cap
        for _ in range(12):
            stats_sweep.sweep(rt)
        # Then the history holds exactly the cap, and every key will expire
        history = keys.stats_history(host, running.id)
        assert client.xlen(history) == 5
        assert 0 < client.ttl(history) <= 60
        assert 0 < client.ttl(keys.stats_latest(host)) <= 60
    finally:
        running.remove(force=True)
    # And once it is gone, the next sweep drops it from the latest view
    stats_sweep.sweep(rt)
    assert client.hget(keys.stats_latest(host), running.id) is None


def test_the_worker_task_sweeps_its_host_and_the_client_reads_the_fresh_sample(
    fleet: Fleet, host_a: Host
) -> None:
    # Given a running container on host A
    info = running_container(fleet, host_a.name)

    # When beat's task sweeps host A through its queue
    result = sweep(fleet, host_a.name)
    assert result["mode"] == "cgroup" and result["containers"] >= 1

    # Then get_container_stats answers from that sample, not from a live engine call
    started = time.perf_counter()
    stats = fleet.get_container_stats(info.name)
    took = (time.perf_counter() - started) * 1000
    print(f"\nget_container_stats from Redis: {took:.1f} ms")
    assert stats.id == info.id and stats.mode == "cgroup"
    # And the host registry tells how the host is sampled
    status = {h.name: h for h in fleet.hosts()}[host_a.name]
    assert status.sampling_mode == "cgroup" and status.last_sweep is not None
    # And the latest view lists it
    assert info.id in {s.id for s in fleet.latest_stats(host_a.name)}


def test_stats_stream_yields_samples_as_sweeps_write_them(fleet: Fleet, host_a: Host) -> None:
    # Given a running container and a reader of the stats channel
    info = running_container(fleet, host_a.name)
    got: list[str] = []

    def read() -> None:
        for sample in fleet.stats_stream(ids=[info.id], timeout=15):
            got.append(sample.id)
            return

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.5)  # the reader follows from "now"
    # When the host is swept
    sweep(fleet, host_a.name)
    reader.join(20)
    # Then the reader got the container's sample
    assert got == [info.id]


def test_cli_stats_prints_a_table_once_with_no_stream_and_refreshes_without(
    fleet: Fleet, host_a: Host, redis_url: str
) -> None:
    # Given a running, swept container
    info = running_container(fleet, host_a.name)
    sweep(fleet, host_a.name)
    dockfleet = str(Path(sys.executable).with_name("dockfleet"))
    env_args = [dockfleet, "--redis-url", redis_url, "stats"]

    # When `stats --no-stream` runs, it prints one table with the container and exits
    once = subprocess.run([*env_args, "--no-stream"], capture_output=True, text=True, timeout=30)
    assert once.returncode == 0, once.stderr
    assert once.stdout.count("CONTAINER ID") == 1 and info.name in once.stdout

    # And plain `stats` keeps refreshing until stopped
    live = subprocess.Popen(env_args, stdout=subprocess.PIPE, text=True)
    time.sleep(4)
    live.terminate()
    out, _ = live.communicate(timeout=10)
    assert out.count("CONTAINER ID") >= 2 and info.name in out
