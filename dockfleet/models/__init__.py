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
from dockfleet.models.maintenance import (
    CleanupReport,
    DispatchResult,
    ReconcileReport,
    RemovedObject,
    SweepResult,
)
from dockfleet.models.queries import ContainerFilter, LogOptions
from dockfleet.models.system import DiskUsage, HostStatus, PingResult, SystemInfo

__all__ = [
    "BatchAction",
    "BatchOutcome",
    "CleanupReport",
    "ContainerConfig",
    "ContainerFilter",
    "ContainerInfo",
    "ContainerStats",
    "DiskUsage",
    "DispatchResult",
    "HealthCheckConfig",
    "HostStatus",
    "LogLine",
    "LogOptions",
    "LogSummary",
    "Mount",
    "PingResult",
    "PortBinding",
    "ReconcileReport",
    "RemoveResult",
    "RemovedObject",
    "RestartPolicy",
    "SweepResult",
    "SystemInfo",
    "Ulimit",
    "WaitResult",
]
