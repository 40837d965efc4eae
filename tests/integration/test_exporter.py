"""`dockfleet exporter`: Prometheus metrics from Redis, parsed with prometheus_client's parser."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from dockfleet import Fleet
from dockfleet.queues import SHARED_QUEUE, host_queue
from tests.conftest import Host
from tests.support.services import free_port, wait_for
from tests.support.sweeps import running_container, sweep

Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def listening_addresses(port: int) -> list[str]:
    """The IPv4 addresses that listen on TCP `port` on this machine (from /proc/net/tcp)."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, _, hex_port = local.partition(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.append(".".join(str(b) for b in reversed(bytes.fromhex(address))))
    return found


@pytest.fixture
def exporter(redis_url: str) -> Iterator[str]:
    port = free_port()
    dockfleet = str(Path(sys.executable).with_name("dockfleet"))
    env = {**os.environ, "DOCKFLEET_REDIS_URL": redis_url, "DOCKFLEET_HEARTBEAT_INTERVAL": "1"}
    process = subprocess.Popen(
        [dockfleet, "exporter", "--port", str(port)],  # the default address: loopback
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/metrics"
    # The metrics have no auth: by default the exporter listens on loopback only.
    wait_for(lambda: listening_addresses(port) != [], 20, "exporter socket")
    assert listening_addresses(port) == ["127.0.0.1"]
    try:
        wait_for(lambda: urllib.request.urlopen(url, timeout=2).status == 200, 20, "exporter")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def scrape(url: str) -> Series:
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def named(series: Series, name: str, **labels: str) -> list[float]:
    return [
        v
        for (n, ls), v in series.items()
        if n == name and all(dict(ls).get(k) == want for k, want in labels.items())
    ]


def test_exporter_serves_fleet_series_per_host_and_none_per_container(
    fleet: Fleet, host_a: Host, exporter: str
) -> None:
    # Given a running container on host A, swept twice
    info = running_container(fleet, host_a.name)
    sweep(fleet, host_a.name)
    sweep(fleet, host_a.name)

    # When Prometheus scrapes
    series = scrape(exporter)

    # Then the host, its capacity, its queue, the shared queue and its containers' use are
    # there, per host
    assert named(series, "dockfleet_host_up", host=host_a.name) == [1.0]
    assert named(series, "dockfleet_host_containers_running", host=host_a.name)
    assert named(series, "dockfleet_host_max_containers", host=host_a.name) == [20.0]
    assert named(series, "dockfleet_host_fleet_containers", host=host_a.name) == [1.0]
    assert named(series, "dockfleet_jobs_running", host=host_a.name) == [0.0]
    assert len(named(series, "dockfleet_queue_depth", queue=host_queue(host_a.name))) == 1
    assert len(named(series, "dockfleet_queue_depth", queue=SHARED_QUEUE)) == 1
    assert named(series, "dockfleet_container_memory_usage_bytes", host=host_a.name)[0] > 0
    for name in ("cpu_seconds", "network_receive_bytes", "block_read_bytes", "block_write_bytes"):
        assert len(named(series, f"dockfleet_container_{name}_total", host=host_a.name)) == 1
    assert named(series, "dockfleet_cleanup_removed_total", host=host_a.name, kind="image")
    assert named(series, "dockfleet_orphans_reaped_total", host=host_a.name, kind="container")
    assert named(series, "dockfleet_cleanup_reclaimed_bytes_total", host=host_a.name)
    # And no series names a container: one per job would pile up in Prometheus
    assert not [k for k in series if {"id", "name"} & set(dict(k[1]))]

    # When the container is removed and the host swept again
    cpu = named(series, "dockfleet_container_cpu_seconds_total", host=host_a.name)[0]
    fleet.remove_container(info.id, force=True)
    sweep(fleet, host_a.name)

    # Then its memory is no longer counted, and the CPU it used still is (a counter)
    after = scrape(exporter)
    assert named(after, "dockfleet_container_memory_usage_bytes", host=host_a.name) == [0.0]
    assert named(after, "dockfleet_container_cpu_seconds_total", host=host_a.name) == [cpu]
    assert named(after, "dockfleet_host_up", host=host_a.name) == [1.0]
