"""Reads a container's resource counters straight from its cgroup files (v1 and v2).

The engine's one-shot stats still wait for its 1-s collection cycle; these files
give the same counters in microseconds, for every container whose cgroup the
worker can see (same machine, or ``/sys/fs/cgroup`` mounted read-only as
cAdvisor does). A container whose directory is not found returns None and is
sampled through the API instead.

Layouts known: the cgroupfs driver (``<controller>/docker/<id>`` in v1,
``docker/<id>`` in v2) and the systemd driver (``system.slice/docker-<id>.scope``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: the kernel's "no limit" in v1 is a page-aligned LONG_MAX; anything this large means none
UNLIMITED = 1 << 60


@dataclass(frozen=True)
class Counters:
    """Raw counters of one container at one instant (CPU % needs a previous reading)."""

    cpu_total_ns: int
    memory_usage: int
    memory_limit: int
    pids: int
    disk_read: int
    disk_write: int
    network_rx: int
    network_tx: int


class CgroupReader:
    """Finds and reads container cgroups under `root` (``/sys/fs/cgroup``)."""

    def __init__(self, root: str = "/sys/fs/cgroup", proc: str = "/proc") -> None:
        self.root = Path(root)
        self.proc = Path(proc)
        self.version = 2 if (self.root / "cgroup.controllers").exists() else 1
        self._mem_total = _mem_total(self.proc)

    def available(self) -> bool:
        """Whether a cgroup tree is mounted here at all."""
        if self.version == 2:
            return (self.root / "cgroup.controllers").exists()
        return (self.root / "memory").is_dir() and (self.root / "cpuacct").is_dir()

    def read(self, container_id: str) -> Counters | None:
        """The container's counters, or None when its cgroup is not visible from here."""
        try:
            if self.version == 2:
                return self._read_v2(container_id)
            return self._read_v1(container_id)
        except (FileNotFoundError, ProcessLookupError):
            return None  # not visible from here, or the container exited mid-read

    # -- v1 ------------------------------------------------------------------

    def _dir_v1(self, controller: str, container_id: str) -> Path | None:
        base = self.root / controller
        for candidate in (
            base / "docker" / container_id,
            base / "system.slice" / f"docker-{container_id}.scope",
        ):
            if candidate.is_dir():
                return candidate
        return None

    def _read_v1(self, container_id: str) -> Counters | None:
        memory = self._dir_v1("memory", container_id)
        cpuacct = self._dir_v1("cpuacct", container_id)
        if memory is None or cpuacct is None:
            return None
        stat = _key_values(memory / "memory.stat")
        usage = _int(memory / "memory.usage_in_bytes")
        # Like `docker stats`: page cache that can be dropped is not the container's use.
        usage = max(0, usage - stat.get("total_inactive_file", stat.get("inactive_file", 0)))
        pids_dir = self._dir_v1("pids", container_id)
        blkio_dir = self._dir_v1("blkio", container_id)
        read, write = (0, 0)
        if blkio_dir is not None:
            read, write = _blkio_v1(blkio_dir / "blkio.throttle.io_service_bytes_recursive")
        rx, tx = self._network(memory / "cgroup.procs")
        return Counters(
            cpu_total_ns=_int(cpuacct / "cpuacct.usage"),
            memory_usage=usage,
            memory_limit=self._limit(_int(memory / "memory.limit_in_bytes")),
            pids=_int(pids_dir / "pids.current") if pids_dir is not None else 0,
            disk_read=read,
            disk_write=write,
            network_rx=rx,
            network_tx=tx,
        )

    # -- v2 ------------------------------------------------------------------

    def _read_v2(self, container_id: str) -> Counters | None:
        found = None
        for candidate in (
            self.root / "docker" / container_id,
            self.root / "system.slice" / f"docker-{container_id}.scope",
        ):
            if candidate.is_dir():
                found = candidate
                break
        if found is None:
            return None
        cpu = _key_values(found / "cpu.stat")
        stat = _key_values(found / "memory.stat")
        usage = max(0, _int(found / "memory.current") - stat.get("inactive_file", 0))
        raw_limit = (found / "memory.max").read_text().strip()
        limit = UNLIMITED if raw_limit == "max" else int(raw_limit)
        read, write = _io_v2(found / "io.stat")
        rx, tx = self._network(found / "cgroup.procs")
        return Counters(
            cpu_total_ns=cpu.get("usage_usec", 0) * 1000,
            memory_usage=usage,
            memory_limit=self._limit(limit),
            pids=_int(found / "pids.current") if (found / "pids.current").exists() else 0,
            disk_read=read,
            disk_write=write,
            network_rx=rx,
            network_tx=tx,
        )

    # -- shared --------------------------------------------------------------

    def _limit(self, limit: int) -> int:
        # No limit: report the machine's memory, as the engine does.
        if limit >= UNLIMITED or (self._mem_total and limit > self._mem_total):
            return self._mem_total or limit
        return limit

    def _network(self, procs: Path) -> tuple[int, int]:
        """Bytes received/sent by the container's network namespace (its first process's)."""
        first = procs.read_text().split(maxsplit=1)
        if not first:
            return 0, 0
        try:
            text = (self.proc / first[0] / "net" / "dev").read_text()
        except (FileNotFoundError, PermissionError, ProcessLookupError):
            return 0, 0  # another PID namespace: the counters are not ours to see
        return parse_net_dev(text)


def parse_net_dev(text: str) -> tuple[int, int]:
    """(rx, tx) bytes summed over every interface but loopback, from ``/proc/<pid>/net/dev``."""
    rx = tx = 0
    for line in text.splitlines()[2:]:
        name, sep, data = line.partition(":")
        if not sep or name.strip() == "lo":
            continue
        fields = data.split()
        if len(fields) >= 9:
            rx += int(fields[0])
            tx += int(fields[8])
    return rx, tx


def _blkio_v1(path: Path) -> tuple[int, int]:
    # "8:0 Read 4096" per device and operation (and "Total" lines, not counted)
    def items(line: str) -> list[tuple[str, str]]:
        parts = line.split()
        return [(parts[1], parts[2])] if len(parts) == 3 else []

    return _bytes_read_written(path, items, "Read", "Write")


def _io_v2(path: Path) -> tuple[int, int]:
    # "8:0 rbytes=4096 wbytes=0 rios=1 ..." per device
    def items(line: str) -> list[tuple[str, str]]:
        return [(key, value) for key, _, value in (i.partition("=") for i in line.split()[1:])]

    return _bytes_read_written(path, items, "rbytes", "wbytes")


def _bytes_read_written(
    path: Path, items: Callable[[str], list[tuple[str, str]]], read_key: str, write_key: str
) -> tuple[int, int]:
    """(read, written) bytes summed over the devices of an I/O file; (0, 0) without one."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return 0, 0
    totals = {read_key: 0, write_key: 0}
    for line in lines:
        for key, value in items(line):
            if key in totals:
                totals[key] += int(value)
    return totals[read_key], totals[write_key]


def _key_values(path: Path) -> dict[str, int]:
    values = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            values[key] = int(value)
    return values


def _int(path: Path) -> int:
    return int(path.read_text().strip() or 0)


def _mem_total(proc: Path) -> int:
    try:
        for line in (proc / "meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ValueError):
        pass
    return 0
