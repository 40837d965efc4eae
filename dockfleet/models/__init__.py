"""The JSON-safe models that travel between producers and workers."""

from dockfleet.models.container_spec import (
    ContainerConfig,
    HealthCheckConfig,
    RestartPolicy,
    Ulimit,
)
from dockfleet.models.container_state import (
    BatchAction,
    BatchOutcome,
    ContainerInfo,
    ContainerStats,
    LogLine,
    LogSummary,
    Mount,
    PortBinding,
    RemoveResult,
    WaitResult,
)
from dockfleet.models.queries import ContainerFilter, LogOptions
from dockfleet.models.system import DiskUsage, HostStatus, PingResult, SystemInfo

__all__ = [
    "BatchAction",
    "BatchOutcome",
    "ContainerConfig",
    "ContainerFilter",
    "ContainerInfo",
    "ContainerStats",
    "DiskUsage",
    "HealthCheckConfig",
    "HostStatus",
    "LogLine",
    "LogOptions",
    "LogSummary",
    "Mount",
    "PingResult",
    "PortBinding",
    "RemoveResult",
    "RestartPolicy",
    "SystemInfo",
    "Ulimit",
    "WaitResult",
]
