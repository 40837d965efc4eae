"""Stats adapter: one resource sample of a container through the Engine API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import docker

from dockfleet.models import ContainerStats
from worker.engine.errors import translated
from worker.engine.objects import engine_time


@dataclass(frozen=True, slots=True)
class Usage:
    """What a container has used so far, as far as the engine's counters tell."""

    #: bytes: the peak where the engine keeps one (cgroup v1), else the current use
    peak_memory: int
    #: CPU time of all its processes since it started
    cpu_seconds: float


@translated
def sample(client: docker.DockerClient, ref: str, host: str) -> ContainerStats:
    """One sample with a CPU % measured over the engine's own ~1 s window.

    ``stream=False`` makes the engine take two readings (``precpu_stats``), so the
    CPU figure is real rather than zero; it costs about a second per call.
    """
    doc: dict[str, Any] = client.api.stats(ref, stream=False)
    return from_engine(doc, host)


@translated
def one_shot(client: docker.DockerClient, ref: str, host: str) -> ContainerStats:
    """One reading without waiting for the engine's second one (CPU % left at 0).

    The caller computes CPU % against its own previous reading
    (``cpu_total_ns``); this still waits for the engine's ~1 s collection cycle
    when the engine was busy, so a sweep issues these in parallel.
    """
    doc: dict[str, Any] = client.api.stats(ref, stream=False, one_shot=True)
    sample = from_engine(doc, host)
    sample.mode = "api"
    return sample


@translated
def usage(client: docker.DockerClient, ref: str) -> Usage:
    """One reading of the container's memory and CPU counters (a one-shot stats call)."""
    doc: dict[str, Any] = client.api.stats(ref, stream=False, one_shot=True)
    memory = doc.get("memory_stats") or {}
    total = ((doc.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage", 0)
    return Usage(int(memory.get("max_usage") or memory.get("usage") or 0), total / 1e9)


def from_engine(doc: dict[str, Any], host: str) -> ContainerStats:
    cpu = doc.get("cpu_stats") or {}
    pre = doc.get("precpu_stats") or {}
    memory = doc.get("memory_stats") or {}
    networks = (doc.get("networks") or {}).values()
    blkio = (doc.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    usage = memory.get("usage", 0)
    details = memory.get("stats") or {}
    # Like `docker stats`: page cache is reclaimable, so it is not the container's use.
    usage = max(0, usage - details.get("total_inactive_file", details.get("inactive_file", 0)))
    limit = memory.get("limit", 0)
    return ContainerStats(
        id=doc.get("id", ""),
        name=str(doc.get("name", "")).lstrip("/"),
        host=host,
        read_at=engine_time(doc.get("read")),
        cpu_usage=cpu_percent(cpu, pre),
        memory_usage=usage,
        memory_limit=limit,
        memory_percent=(usage / limit * 100.0) if limit else 0.0,
        network_rx=sum(n.get("rx_bytes", 0) for n in networks),
        network_tx=sum(n.get("tx_bytes", 0) for n in networks),
        disk_read=sum(e.get("value", 0) for e in blkio if e.get("op", "").lower() == "read"),
        disk_write=sum(e.get("value", 0) for e in blkio if e.get("op", "").lower() == "write"),
        pids=(doc.get("pids_stats") or {}).get("current", 0) or 0,
        cpu_total_ns=(cpu.get("cpu_usage") or {}).get("total_usage", 0) or 0,
        mode="live",
    )


def cpu_percent(cpu: dict[str, Any], pre: dict[str, Any]) -> float:
    """CPU use in percent of one core (200 = two cores busy), as `docker stats` shows it."""
    used = (cpu.get("cpu_usage") or {}).get("total_usage", 0)
    used_before = (pre.get("cpu_usage") or {}).get("total_usage", 0)
    cpu_delta = float(used - used_before)
    system_delta = float(cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0))
    if not pre.get("system_cpu_usage"):
        return 0.0  # no earlier reading: lifetime use over uptime is not current use
    per_cpu = (cpu.get("cpu_usage") or {}).get("percpu_usage") or []
    online = int(cpu.get("online_cpus") or len(per_cpu) or 1)
    if cpu_delta <= 0 or system_delta <= 0:
        return 0.0
    return round(cpu_delta / system_delta * online * 100.0, 2)
