"""worker.engine.stats: the CPU formula and reading a stats document."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from worker.engine.stats import cpu_percent, from_engine


def cpu(total: int, system: int, online: int | None = 2, percpu: int = 0) -> dict[str, Any]:
    usage: dict[str, Any] = {"total_usage": total}
    if percpu:
        usage["percpu_usage"] = [total // percpu] * percpu
    doc: dict[str, Any] = {"cpu_usage": usage, "system_cpu_usage": system}
    if online is not None:
        doc["online_cpus"] = online
    return doc


def test_cpu_percent_is_zero_without_a_previous_reading() -> None:
    # given the first frame of a stream: the engine sends an empty precpu_stats;
    # a lifetime total over the system's uptime is not a current CPU use
    assert cpu_percent(cpu(5_000_000_000, 900_000_000_000), {}) == 0.0


def test_cpu_percent_is_zero_with_zeroed_previous_reading() -> None:
    zeroed = {"cpu_usage": {"total_usage": 0}, "system_cpu_usage": 0}
    assert cpu_percent(cpu(5_000_000_000, 900_000_000_000), zeroed) == 0.0


def test_cpu_percent_follows_the_docker_formula() -> None:
    # given 0.5 s of container CPU over 2 s of system CPU on 2 online cpus
    now = cpu(10_500_000_000, 102_000_000_000, online=2)
    before = cpu(10_000_000_000, 100_000_000_000, online=2)
    # then (0.5 / 2) * 2 * 100
    assert cpu_percent(now, before) == 50.0


def test_cpu_percent_counts_percpu_entries_when_online_cpus_is_missing() -> None:
    now = cpu(2_000_000_000, 104_000_000_000, online=None, percpu=4)
    before = cpu(1_000_000_000, 100_000_000_000, online=None, percpu=4)
    assert cpu_percent(now, before) == 100.0


def test_cpu_percent_is_rounded_to_two_decimals() -> None:
    now = cpu(1_000_000_001, 3_000_000_000, online=1)
    before = cpu(1, 1, online=1)
    assert cpu_percent(now, before) == 33.33


@pytest.mark.parametrize(("cpu_delta", "system_delta"), [(0, 1000), (-5, 1000), (10, 0)])
def test_cpu_percent_is_zero_without_progress(cpu_delta: int, system_delta: int) -> None:
    before = cpu(1_000_000, 1_000_000)
    now = cpu(1_000_000 + cpu_delta, 1_000_000 + system_delta)
    assert cpu_percent(now, before) == 0.0


def cgroup_v1_stats() -> dict[str, Any]:
    return {
        "id": "c" * 64,
        "name": "/ci-job",
        "read": "2024-05-01T12:00:00.987654321Z",
        "pids_stats": {"current": 7},
        "cpu_stats": cpu(10_500_000_000, 102_000_000_000, online=2),
        "precpu_stats": cpu(10_000_000_000, 100_000_000_000, online=2),
        "memory_stats": {
            "usage": 104_857_600,
            "limit": 1_073_741_824,
            "stats": {"total_inactive_file": 4_194_304, "inactive_file": 1, "cache": 8_388_608},
        },
        "networks": {
            "eth0": {"rx_bytes": 1_000, "tx_bytes": 200},
            "eth1": {"rx_bytes": 30, "tx_bytes": 4},
        },
        "blkio_stats": {
            "io_service_bytes_recursive": [
                {"major": 8, "minor": 0, "op": "Read", "value": 4096},
                {"major": 8, "minor": 0, "op": "Write", "value": 8192},
                {"major": 8, "minor": 16, "op": "Read", "value": 1024},
                {"major": 8, "minor": 16, "op": "Write", "value": 512},
                {"major": 8, "minor": 0, "op": "Sync", "value": 9999},
                {"major": 8, "minor": 0, "op": "Total", "value": 13824},
            ]
        },
    }


def test_from_engine_reads_a_cgroup_v1_document() -> None:
    stats = from_engine(cgroup_v1_stats(), "ci-1")

    assert stats.id == "c" * 64
    assert stats.name == "ci-job"
    assert stats.host == "ci-1"
    assert stats.read_at == datetime(2024, 5, 1, 12, 0, 0, 987654, tzinfo=UTC)
    assert stats.cpu_usage == 50.0
    # page cache is reclaimable: usage minus total_inactive_file, as docker stats shows
    assert stats.memory_usage == 100_663_296
    assert stats.memory_limit == 1_073_741_824
    assert stats.memory_percent == pytest.approx(9.375)
    assert (stats.network_rx, stats.network_tx) == (1_030, 204)
    assert (stats.disk_read, stats.disk_write) == (5_120, 8_704)
    assert stats.pids == 7


def test_from_engine_uses_inactive_file_on_cgroup_v2() -> None:
    doc = cgroup_v1_stats()
    doc["memory_stats"]["stats"] = {"inactive_file": 4_857_600}
    assert from_engine(doc, "ci-1").memory_usage == 100_000_000


def test_from_engine_never_reports_negative_memory() -> None:
    doc = cgroup_v1_stats()
    doc["memory_stats"] = {"usage": 1_000, "limit": 10_000, "stats": {"total_inactive_file": 2_000}}

    stats = from_engine(doc, "ci-1")

    assert stats.memory_usage == 0
    assert stats.memory_percent == 0.0


def test_from_engine_of_a_stopped_container_is_all_zero() -> None:
    # a stopped container's stats document has empty sections
    doc = {"id": "x", "name": "/x", "read": "0001-01-01T00:00:00Z", "memory_stats": {}}

    stats = from_engine(doc, "ci-1")

    assert stats.read_at is None
    assert (stats.cpu_usage, stats.memory_usage, stats.memory_percent) == (0.0, 0, 0.0)
    assert (stats.network_rx, stats.disk_read, stats.pids) == (0, 0, 0)
