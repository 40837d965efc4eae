"""dockfleet: run the Docker work of CI/CD pipelines on a fleet of Celery workers.

The public face: settings, models, errors, queue names and the `Fleet` client.
Nothing here imports the Docker SDK, `worker` or `tasks`. The client (`Fleet`,
`JobHandle`, `load_job_file`) is imported on first use: a worker imports this package
for its settings, models and key names, and has no use for the client's ~40 modules
(about 2 MB of every worker's memory).
"""

import importlib
from typing import TYPE_CHECKING, Any

from dockfleet.errors import (
    AmbiguousReference,
    BrokerUnavailable,
    BuildFailed,
    CacheInUse,
    Conflict,
    ContainerLimitReached,
    ContainerNotFound,
    EngineBusy,
    EngineError,
    FleetError,
    HostUnavailable,
    ImageNotFound,
    InvalidSpec,
    JobCanceled,
    JobTimeout,
    NetworkInUse,
    NetworkNotFound,
    NotFound,
    OperationTimeout,
    PermanentError,
    PolicyViolation,
    RegistryAuthError,
    ServiceNotReady,
    TransferFailed,
    TransientError,
)
from dockfleet.models import (
    BatchOutcome,
    BuildContext,
    BuildOptions,
    BuildResult,
    Cache,
    CacheInfo,
    CleanupReport,
    ContainerConfig,
    ContainerFilter,
    ContainerInfo,
    ContainerStats,
    DiskUsage,
    HealthCheckConfig,
    HostStatus,
    ImageFilter,
    ImageInfo,
    ImageRemoveResult,
    JobResult,
    JobSpec,
    LogLine,
    LogOptions,
    NetworkEndpoint,
    NetworkFilter,
    NetworkInfo,
    NetworkOptions,
    PingResult,
    PullSpec,
    PushResult,
    PushSpec,
    ReconcileReport,
    RegistryCredentials,
    RemovedObject,
    RemoveResult,
    RestartPolicy,
    ServiceSpec,
    SystemInfo,
    TransferProgress,
    Ulimit,
    WaitResult,
    Workspace,
)
from dockfleet.policy_model import SecurityPolicy
from dockfleet.settings import Settings

if TYPE_CHECKING:
    from dockfleet.client.fleet import Fleet
    from dockfleet.client.job_handle import JobHandle
    from dockfleet.job_file import load_job_file

#: public name -> the module that defines it, imported when the name is first asked for
_ON_FIRST_USE = {
    "Fleet": "dockfleet.client.fleet",
    "JobHandle": "dockfleet.client.job_handle",
    "load_job_file": "dockfleet.job_file",
}


def __getattr__(name: str) -> Any:
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module 'dockfleet' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # asked once: later lookups find it without this function
    return value


__all__ = [
    "AmbiguousReference",
    "BatchOutcome",
    "BrokerUnavailable",
    "BuildContext",
    "BuildFailed",
    "BuildOptions",
    "BuildResult",
    "Cache",
    "CacheInUse",
    "CacheInfo",
    "CleanupReport",
    "Conflict",
    "ContainerConfig",
    "ContainerFilter",
    "ContainerInfo",
    "ContainerLimitReached",
    "ContainerNotFound",
    "ContainerStats",
    "DiskUsage",
    "EngineBusy",
    "EngineError",
    "Fleet",
    "FleetError",
    "HealthCheckConfig",
    "HostStatus",
    "HostUnavailable",
    "ImageFilter",
    "ImageInfo",
    "ImageNotFound",
    "ImageRemoveResult",
    "InvalidSpec",
    "JobCanceled",
    "JobHandle",
    "JobResult",
    "JobSpec",
    "JobTimeout",
    "LogLine",
    "LogOptions",
    "NetworkEndpoint",
    "NetworkFilter",
    "NetworkInUse",
    "NetworkInfo",
    "NetworkNotFound",
    "NetworkOptions",
    "NotFound",
    "OperationTimeout",
    "PermanentError",
    "PingResult",
    "PolicyViolation",
    "PullSpec",
    "PushResult",
    "PushSpec",
    "RegistryAuthError",
    "RegistryCredentials",
    "ReconcileReport",
    "RemovedObject",
    "RemoveResult",
    "RestartPolicy",
    "SecurityPolicy",
    "ServiceNotReady",
    "ServiceSpec",
    "Workspace",
    "Settings",
    "SystemInfo",
    "TransferProgress",
    "TransferFailed",
    "TransientError",
    "Ulimit",
    "WaitResult",
    "load_job_file",
]
