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
from dockfleet.models.jobs import JobResult, JobSpec, JobStatus, PullPolicy, ServiceSpec
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
    "JobResult",
    "JobSpec",
    "JobStatus",
    "LogLine",
    "LogOptions",
    "LogSummary",
    "Mount",
    "PingResult",
    "PortBinding",
    "PullPolicy",
    "RemoveResult",
    "RestartPolicy",
    "ServiceSpec",
    "SystemInfo",
    "Ulimit",
    "WaitResult",
]
