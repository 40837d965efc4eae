"""The JSON-safe models that travel between producers and workers."""

from dockfleet.models.artifacts import ArtifactFile, ArtifactsReport, ArtifactsWhen
from dockfleet.models.builds import BuildContext, BuildOptions, BuildResult
from dockfleet.models.caches import CacheInfo
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
from dockfleet.models.images import (
    ImageFilter,
    ImageInfo,
    ImageRemoveResult,
    PullSpec,
    PushResult,
    PushSpec,
    RegistryCredentials,
    TransferProgress,
)
from dockfleet.models.jobs import (
    Cache,
    JobResult,
    JobSpec,
    JobStatus,
    PullPolicy,
    ServiceSpec,
    Workspace,
)
from dockfleet.models.maintenance import (
    CleanupReport,
    DispatchResult,
    ReconcileReport,
    RemovedObject,
    SweepResult,
)
from dockfleet.models.networks import (
    NetworkEndpoint,
    NetworkFilter,
    NetworkInfo,
    NetworkOptions,
)
from dockfleet.models.queries import ContainerFilter, LogOptions
from dockfleet.models.system import DiskUsage, HostStatus, PingResult, SystemInfo

__all__ = [
    "BatchAction",
    "BatchOutcome",
    "BuildContext",
    "ArtifactFile",
    "ArtifactsReport",
    "ArtifactsWhen",
    "BuildOptions",
    "BuildResult",
    "Cache",
    "CacheInfo",
    "CleanupReport",
    "ContainerConfig",
    "ContainerFilter",
    "ContainerInfo",
    "ContainerStats",
    "DiskUsage",
    "DispatchResult",
    "HealthCheckConfig",
    "HostStatus",
    "JobResult",
    "JobSpec",
    "JobStatus",
    "ImageFilter",
    "ImageInfo",
    "ImageRemoveResult",
    "LogLine",
    "LogOptions",
    "LogSummary",
    "Mount",
    "NetworkEndpoint",
    "NetworkFilter",
    "NetworkInfo",
    "NetworkOptions",
    "PingResult",
    "PortBinding",
    "PullPolicy",
    "PullSpec",
    "PushResult",
    "PushSpec",
    "RegistryCredentials",
    "ReconcileReport",
    "RemoveResult",
    "RemovedObject",
    "RestartPolicy",
    "ServiceSpec",
    "Workspace",
    "SweepResult",
    "SystemInfo",
    "TransferProgress",
    "Ulimit",
    "WaitResult",
]
