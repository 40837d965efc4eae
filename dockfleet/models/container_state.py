"""What the fleet reports about containers: info, stats, log lines, outcomes.

All JSON-safe pydantic models (never docker-py objects); every one that names
an object also names its ``host``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class Result(BaseModel):
    """Base of results: tolerant of fields added by newer workers."""

    model_config = {"extra": "ignore"}


class PortBinding(Result):
    container_port: str
    host_ip: str = ""
    host_port: str = ""


class Mount(Result):
    type: str
    source: str
    destination: str
    read_only: bool = False


class ContainerInfo(Result):
    """A container as the fleet sees it (a safe summary of `docker inspect`)."""

    id: str
    name: str
    host: str
    image: str
    image_id: str = ""
    status: str
    created: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None
    oom_killed: bool = False
    health: str | None = None
    command: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    env: list[str] = Field(default_factory=list, description="secret values masked")
    ports: list[PortBinding] = Field(default_factory=list)
    mounts: list[Mount] = Field(default_factory=list)
    networks: list[str] = Field(default_factory=list)
    user: str = ""
    nano_cpus: int = 0
    memory: int = 0
    pids_limit: int | None = None
    privileged: bool = False
    read_only: bool = False
    cap_add: list[str] = Field(default_factory=list)
    cap_drop: list[str] = Field(default_factory=list)
    security_opt: list[str] = Field(default_factory=list)
    managed: bool = False

    @property
    def short_id(self) -> str:
        return self.id[:12]


def listing_order(info: ContainerInfo) -> float:
    """Sort key of listings (newest first when reversed). Sorts are stable, so containers
    listed to the second keep the engine's own newest-first order among themselves."""
    return info.created.timestamp() if info.created else 0.0


class ContainerStats(Result):
    """One resource sample of a container; CPU in percent of one core x cores."""

    id: str
    name: str = ""
    host: str
    read_at: datetime | None = None
    cpu_usage: float = Field(default=0.0, description="percent, 100 = one core")
    memory_usage: int = 0
    memory_limit: int = 0
    memory_percent: float = 0.0
    network_rx: int = 0
    network_tx: int = 0
    disk_read: int = 0
    disk_write: int = 0
    pids: int = 0
    #: cumulative CPU time (ns), kept so the next sample's CPU % is a delta against it
    cpu_total_ns: int = 0
    #: how it was read: "cgroup" files, the engine "api", or a "live" one-off call
    mode: str = ""


class LogLine(Result):
    """One line of a container's output."""

    stream: Literal["stdout", "stderr"]
    line: str
    timestamp: datetime | None = None


class LogSummary(Result):
    """What a logs task reports once it has written every line to its stream."""

    id: str
    host: str
    lines: int
    bytes: int
    follow_ended: Literal["exited", "canceled", "complete"] = "complete"


class WaitResult(Result):
    id: str
    host: str
    exit_code: int
    error: str | None = None
    oom_killed: bool = False


class RemoveResult(Result):
    id: str
    host: str
    removed: bool = Field(description="false when it was already gone")


BatchAction = Literal["stop", "restart", "remove"]


class BatchOutcome(Result):
    """The outcome of one container in a batch stop/restart/remove."""

    host: str
    id: str
    name: str
    action: BatchAction
    ok: bool
    error: str | None = None
