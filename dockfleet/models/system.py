"""What the fleet reports about a Docker host: info, ping, disk usage, liveness."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from dockfleet.models.container_state import Result


class SystemInfo(Result):
    """A Docker host's facts, as `docker info` gives them."""

    host: str
    containers_running: int = 0
    containers_paused: int = 0
    containers_stopped: int = 0
    containers_total: int = 0
    images: int = 0
    mem_total: int = 0
    cpus: int = 0
    docker_version: str = ""
    api_version: str = ""
    os: str = ""
    kernel_version: str = ""
    storage_driver: str = ""
    cgroup_version: str = ""
    docker_root_dir: str = ""
    fleet_containers: int = Field(default=0, description="containers the fleet manages here")
    max_containers: int = 0


class PingResult(Result):
    host: str
    ok: bool
    api_version: str = ""
    latency_ms: float = 0.0


class DiskUsage(Result):
    """`docker system df` of one host, in bytes."""

    host: str
    images: int = 0
    images_size: int = 0
    containers: int = 0
    containers_size: int = 0
    volumes: int = 0
    volumes_size: int = 0
    build_cache_size: int = 0


class HostStatus(Result):
    """A host as the registry knows it from its workers' heartbeats."""

    name: str
    up: bool
    last_seen: datetime
    engine_ok: bool = True
    workers: list[str] = Field(default_factory=list)
    docker_version: str = ""
    cpus: int = 0
    mem_total: int = 0
    containers_running: int = 0
    containers_total: int = 0
    images: int = 0
    disk_used: int | None = Field(default=None, description="bytes used on the data-root disk")
    disk_total: int | None = None
    sampling_mode: str = Field(default="", description="cgroup, api or mixed (last sweep)")
    last_sweep: datetime | None = None
    sweep_ms: float | None = None

    @property
    def disk_percent(self) -> float | None:
        if not self.disk_used or not self.disk_total:
            return None
        return self.disk_used / self.disk_total * 100.0
