"""CI jobs: what a pipeline asks for (`JobSpec`) and what it gets back (`JobResult`)."""

from __future__ import annotations

import posixpath
import re
from datetime import datetime
from os import PathLike
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from dockfleet.models.artifacts import ArtifactsReport, ArtifactsWhen, relative_path
from dockfleet.models.container_spec import (
    Bytes,
    ContainerConfig,
    FrozenModel,
    Seconds,
)
from dockfleet.models.container_state import Result
from dockfleet.models.fields import SecretMap, UserLabels
from dockfleet.names import check_cache_key, check_job_id

PullPolicy = Literal["always", "if-not-present", "never"]
JobStatus = Literal["succeeded", "failed", "timed_out", "canceled", "oom_killed", "error"]
ALIAS_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")
DEFAULT_LOG_LIMIT = 4 * 1024 * 1024
DEFAULT_WORKSPACE_TARGET = "/workspace"
#: where the engine reads the job's user and groups when it starts the container: a
#: workspace must not be unpacked over them (it could make a named user uid 0)
USER_DATABASE = "/etc"


class ServiceSpec(FrozenModel):
    """A sidecar the job talks to (a database, a cache), reachable by its alias."""

    alias: str
    container: ContainerConfig
    readiness_timeout: Seconds = Field(default=60.0, gt=0)

    @field_validator("alias")
    @classmethod
    def _alias(cls, value: str) -> str:
        if not ALIAS_RE.match(value):
            raise ValueError("must be a DNS-like name: letters, digits, '.', '_' or '-'")
        return value


class Workspace(FrozenModel):
    """A folder of the client's machine, unpacked into the job's container before it starts.

    The client tars it (honouring its ``.dockerignore``) and streams it through Redis;
    the worker checks every member and unpacks it at `target`, owned by the job's user.
    """

    source: str = Field(description="the folder on the client's machine")
    target: str = Field(
        default=DEFAULT_WORKSPACE_TARGET,
        description="where it lands in the container; also the default working directory",
    )

    @field_validator("target")
    @classmethod
    def _target(cls, value: str) -> str:
        return container_folder(value)


class Cache(FrozenModel):
    """A folder of the job's container kept between jobs: the host's volume for `key`.

    Every job of a host that names the same key mounts the same volume; the key is the
    user's to scope (per project, say ``myproj-npm``). Written ``KEY:PATH``.
    """

    key: str = Field(description="names the cache on each host: letters, digits, '.', '_', '-'")
    path: str = Field(description="where it is mounted in the job's container")

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        return check_cache_key(value)

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return container_folder(value)


def container_folder(value: str) -> str:
    """A folder of a job's container that the fleet fills (a workspace, a cache): absolute,
    below /, without '..', not in /etc; normalised."""
    if not value.startswith("/"):
        raise ValueError(f"{value!r} must be an absolute container path")
    path = "/" + posixpath.normpath(value).lstrip("/")
    if path == "/" or ".." in value.split("/"):
        raise ValueError(f"{value!r}: a folder below / without '..'")
    if path == USER_DATABASE or path.startswith(USER_DATABASE + "/"):
        raise ValueError(f"{value!r}: not in /etc (the engine reads the job's user there)")
    return path


class JobSpec(FrozenModel):
    """One CI job: a container run to completion, with its services, on one host."""

    container: ContainerConfig
    timeout: Seconds = Field(default=3600.0, gt=0)
    pull: PullPolicy = "if-not-present"
    services: list[ServiceSpec] = Field(default_factory=list)
    secret_env: SecretMap = Field(
        default_factory=dict, description="added to the job container's env; masked everywhere"
    )
    network: bool = Field(default=True, description="a private network for the job and services")
    log_limit: Bytes = DEFAULT_LOG_LIMIT
    keep_on_failure: bool = Field(default=False, description="leave containers for debugging")
    stop_grace: Seconds = Field(default=10.0, description="SIGTERM to SIGKILL on cancel/timeout")
    host: str | None = None
    labels: UserLabels = Field(default_factory=dict, description="pipeline id, CI job id...")
    workspace: Workspace | None = Field(
        default=None, description="a folder sent into the job's container (a path: its source)"
    )
    caches: list[Cache] = Field(
        default_factory=list, description="folders kept between the jobs of a host (KEY:PATH)"
    )
    artifacts: list[str] = Field(
        default_factory=list,
        description="paths or globs below the working directory, copied out when the job ends",
    )
    artifacts_when: ArtifactsWhen = "on_success"
    job_id: str | None = Field(default=None, description="set by the client if not given")

    @field_validator("caches", mode="before")
    @classmethod
    def _caches(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [_cache_item(item) for item in value]

    @field_validator("workspace", mode="before")
    @classmethod
    def _workspace(cls, value: Any) -> Any:
        return {"source": str(value)} if isinstance(value, str | PathLike) else value

    @field_validator("job_id")
    @classmethod
    def _job_id(cls, value: str | None) -> str | None:
        return value if value is None else check_job_id(value)

    @model_validator(mode="after")
    def _unique_aliases(self) -> JobSpec:
        aliases = [s.alias for s in self.services]
        if len(aliases) != len(set(aliases)):
            raise ValueError("services: aliases must be unique")
        for field in ("key", "path"):
            values = [getattr(c, field) for c in self.caches]
            if len(values) != len(set(values)):
                raise ValueError(f"caches: each {field} at most once")
        return self

    @model_validator(mode="after")
    def _artifact_paths(self) -> JobSpec:
        working_dir = self.job_container().working_dir
        try:
            paths = [relative_path(path, working_dir) for path in self.artifacts]
        except ValueError as exc:
            raise ValueError(f"artifacts: {exc}") from None
        if paths != self.artifacts:  # frozen: set through the object's own dict
            object.__setattr__(self, "artifacts", list(dict.fromkeys(paths)))
        return self

    def job_container(self) -> ContainerConfig:
        """The job's container config with the job-level secrets merged in, working in
        its workspace unless it names another working directory."""
        update: dict[str, Any] = {}
        if self.secret_env:
            update["secret_env"] = {**self.container.secret_env, **self.secret_env}
        if self.workspace is not None and self.container.working_dir is None:
            update["working_dir"] = self.workspace.target
        return self.container.model_copy(update=update) if update else self.container

    def secret_values(self) -> list[str]:
        """Every secret value of the job and its services, longest first (for masking)."""
        values = [v for _, v in self.job_container().secret_values_by_key()]
        for service in self.services:
            values += [v for _, v in service.container.secret_values_by_key()]
        return sorted({v for v in values if v}, key=len, reverse=True)


def _cache_item(item: Any) -> Any:
    """``KEY:PATH`` (a flag, a job file's short form) as the `Cache` it names."""
    if not isinstance(item, str):
        return item
    key, colon, path = item.partition(":")
    if not colon:
        raise ValueError(f"cache {item!r}: expected KEY:PATH")
    return {"key": key, "path": path}


class JobResult(Result):
    """How a job ended; reported once, whatever happened to the worker on the way."""

    job_id: str
    host: str
    status: JobStatus
    exit_code: int | None = None
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration: float = Field(default=0.0, description="seconds the job container ran")
    peak_memory: int = Field(default=0, description="bytes")
    cpu_seconds: float = 0.0
    oom_killed: bool = False
    log_bytes: int = 0
    log_lines: int = 0
    log_truncated: bool = False
    adopted: bool = Field(default=False, description="finished by a worker other than the first")
    artifacts: ArtifactsReport | None = Field(
        default=None, description="what was stored of the job's artifacts (None: none asked)"
    )
