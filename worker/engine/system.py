"""System adapter: `docker info`, ping and disk usage of one engine."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import docker

from dockfleet.models import DiskUsage, PingResult, SystemInfo
from worker.engine.errors import translated
from worker.engine.objects import engine_time


@translated
def info(client: docker.DockerClient, host: str) -> SystemInfo:
    doc = client.api.info()
    version = client.api.version()
    return SystemInfo(
        host=host,
        containers_running=doc.get("ContainersRunning", 0),
        containers_paused=doc.get("ContainersPaused", 0),
        containers_stopped=doc.get("ContainersStopped", 0),
        containers_total=doc.get("Containers", 0),
        images=doc.get("Images", 0),
        mem_total=doc.get("MemTotal", 0),
        cpus=doc.get("NCPU", 0),
        docker_version=doc.get("ServerVersion", ""),
        api_version=version.get("ApiVersion", ""),
        os=doc.get("OperatingSystem", ""),
        kernel_version=doc.get("KernelVersion", ""),
        storage_driver=doc.get("Driver", ""),
        docker_root_dir=doc.get("DockerRootDir", ""),
        cgroup_version=str(doc.get("CgroupVersion", "")),
    )


@dataclass(frozen=True)
class EngineFacts:
    """What the fleet needs to know of an engine before it creates anything there."""

    cpus: int
    #: root in a container is not root on the host (userns-remap or a rootless engine)
    remaps_root: bool
    #: where the engine keeps its state (``DockerRootDir``), on the engine's host
    data_root: str = ""


@translated
def facts(client: docker.DockerClient) -> EngineFacts:
    """The engine's CPUs, whether it remaps root and its data root, from one ``docker info``."""
    doc = client.api.info()
    # Each option is "name=seccomp,profile=default", "name=userns", "name=rootless"...
    names = set()
    for option in doc.get("SecurityOptions") or []:
        fields = dict(part.partition("=")[::2] for part in str(option).split(","))
        names.add(fields.get("name"))
    return EngineFacts(
        cpus=int(doc.get("NCPU", 0)),
        remaps_root=bool(names & REMAPPING),
        data_root=str(doc.get("DockerRootDir") or ""),
    )


#: security options under which the container's uid 0 maps to an unprivileged host uid
REMAPPING = {"userns", "rootless"}


@translated
def ping(client: docker.DockerClient, host: str) -> PingResult:
    started = time.perf_counter()
    ok = bool(client.api.ping())
    latency = (time.perf_counter() - started) * 1000
    return PingResult(host=host, ok=ok, api_version=client.api.api_version, latency_ms=latency)


@translated
def clock(client: docker.DockerClient) -> datetime | None:
    """The engine's own time now (``SystemTime`` of ``docker info``)."""
    return engine_time(client.api.info().get("SystemTime"))


@translated
def disk_usage(client: docker.DockerClient, host: str) -> DiskUsage:
    doc = client.api.df()
    images = doc.get("Images") or []
    containers = doc.get("Containers") or []
    volumes = doc.get("Volumes") or []
    return DiskUsage(
        host=host,
        images=len(images),
        images_size=doc.get("LayersSize", 0),
        containers=len(containers),
        containers_size=sum(c.get("SizeRw", 0) or 0 for c in containers),
        volumes=len(volumes),
        volumes_size=sum(max((v.get("UsageData") or {}).get("Size", 0), 0) for v in volumes),
        build_cache_size=sum(b.get("Size", 0) for b in doc.get("BuildCache") or []),
    )
