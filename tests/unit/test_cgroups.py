"""The cgroup reader on fake v1 and v2 trees, and the CPU % of two samples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dockfleet.models import ContainerStats
from worker.maintenance.cgroups import CgroupReader, parse_net_dev
from worker.maintenance.stats_sweep import cpu_percent

CID = "ab" * 32
NET_DEV = """Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo
    lo:     999       9    0    0    0     0          0         0      999       9    0    0    0
  eth0:    1000       7    0    0    0     0          0         0      300       3    0    0    0
  eth1:      24       1    0    0    0     0          0         0       76       1    0    0    0
"""
GIB = 1 << 30


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _proc(tmp_path: Path, pid: int = 4242) -> Path:
    proc = tmp_path / "proc"
    _write(proc / "meminfo", f"MemTotal:       {4 * GIB // 1024} kB\n")
    _write(proc / str(pid) / "net" / "dev", NET_DEV)
    return proc


def _v1_container(
    root: Path, layout: str, *, usage: str, limit: str, stat: str, procs: str, cpu: str
) -> None:
    """The memory and cpuacct files of a container in a v1 tree; `layout` is its directory
    under each controller (``docker/<id>``, or ``system.slice/docker-<id>.scope``)."""
    memory = root / "memory" / layout
    _write(memory / "memory.usage_in_bytes", usage)
    _write(memory / "memory.limit_in_bytes", limit)
    _write(memory / "memory.stat", stat)
    _write(memory / "cgroup.procs", procs)
    _write(root / "cpuacct" / layout / "cpuacct.usage", cpu)


def test_v1_counters_match_what_docker_stats_would_show(tmp_path: Path) -> None:
    # Given a cgroup-v1 tree of one container (cgroupfs driver)
    root = tmp_path / "cg"
    _v1_container(
        root,
        f"docker/{CID}",
        usage="5000000\n",
        limit="67108864\n",
        stat="cache 10\ntotal_inactive_file 1000000\n",
        procs="4242\n4243\n",
        cpu="123456789\n",
    )
    _write(root / "pids" / "docker" / CID / "pids.current", "3\n")
    _write(
        root / "blkio" / "docker" / CID / "blkio.throttle.io_service_bytes_recursive",
        "8:0 Read 4096\n8:0 Write 8192\n8:16 Read 1\n8:0 Total 12288\nTotal 12289\n",
    )
    reader = CgroupReader(str(root), proc=str(_proc(tmp_path)))
    # When it is read
    counters = reader.read(CID)
    # Then usage excludes inactive page cache, blkio is summed by op, net skips loopback
    assert reader.version == 1 and reader.available()
    assert counters is not None
    assert counters.memory_usage == 4_000_000 and counters.memory_limit == 64 * 1024 * 1024
    assert counters.cpu_total_ns == 123456789 and counters.pids == 3
    assert (counters.disk_read, counters.disk_write) == (4097, 8192)
    assert (counters.network_rx, counters.network_tx) == (1024, 376)


def test_v1_no_limit_reads_as_the_machines_memory_and_systemd_layout_is_found(
    tmp_path: Path,
) -> None:
    root = tmp_path / "cg"
    _v1_container(
        root,
        f"system.slice/docker-{CID}.scope",
        usage="100\n",
        limit="9223372036854771712\n",  # v1's "no limit"
        stat="total_inactive_file 0\n",
        procs="",
        cpu="5\n",
    )
    counters = CgroupReader(str(root), proc=str(_proc(tmp_path))).read(CID)
    assert counters is not None
    assert counters.memory_limit == 4 * GIB
    assert (counters.network_rx, counters.pids, counters.disk_read) == (0, 0, 0)


def test_v2_counters(tmp_path: Path) -> None:
    root = tmp_path / "cg"
    _write(root / "cgroup.controllers", "cpu memory io pids\n")
    base = root / "docker" / CID
    _write(base / "cpu.stat", "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n")
    _write(base / "memory.current", "3000\n")
    _write(base / "memory.max", "max\n")
    _write(base / "memory.stat", "anon 100\ninactive_file 1000\n")
    _write(base / "pids.current", "2\n")
    _write(base / "io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2\n8:16 rbytes=1 wbytes=2\n")
    _write(base / "cgroup.procs", "4242\n")
    reader = CgroupReader(str(root), proc=str(_proc(tmp_path)))
    counters = reader.read(CID)
    assert reader.version == 2 and counters is not None
    assert counters.cpu_total_ns == 2_500_000 and counters.memory_usage == 2000
    assert counters.memory_limit == 4 * GIB and counters.pids == 2
    assert (counters.disk_read, counters.disk_write) == (11, 22)
    assert counters.network_tx == 376


def test_a_container_not_visible_here_reads_as_none(tmp_path: Path) -> None:
    root = tmp_path / "cg"
    (root / "memory").mkdir(parents=True)
    (root / "cpuacct").mkdir()
    assert CgroupReader(str(root), proc=str(_proc(tmp_path))).read(CID) is None


def test_no_cgroup_tree_is_not_available(tmp_path: Path) -> None:
    assert not CgroupReader(str(tmp_path / "nothing")).available()


def test_net_dev_parsing_sums_every_interface_but_loopback() -> None:
    assert parse_net_dev(NET_DEV) == (1024, 376)


def _sample(at: datetime, cpu_ns: int) -> ContainerStats:
    return ContainerStats(id=CID, host="h", read_at=at, cpu_total_ns=cpu_ns)


def test_cpu_percent_is_cpu_time_over_wall_time_between_two_samples() -> None:
    now = datetime.now(UTC)
    before = _sample(now - timedelta(seconds=2), 1_000_000_000)
    # Half a core for two seconds = one CPU-second
    assert cpu_percent(_sample(now, 2_000_000_000), before) == 50.0
    # Two busy cores
    assert cpu_percent(_sample(now, 5_000_000_000), before) == 200.0


def test_cpu_percent_without_an_honest_previous_sample_is_zero() -> None:
    now = datetime.now(UTC)
    assert cpu_percent(_sample(now, 10), None) == 0.0
    # A restarted container's counter went back: no figure rather than a negative one
    assert cpu_percent(_sample(now, 10), _sample(now - timedelta(seconds=1), 99)) == 0.0
    # Same instant: no division by zero
    assert cpu_percent(_sample(now, 99), _sample(now, 10)) == 0.0
