"""The one place that reads the environment: `Settings` (prefix ``DOCKFLEET_``).

The first block mirrors the original manager's config; the rest adds what a
fleet needs (Redis, the host a worker serves, retention, security policy).
Tests and code build ``Settings(...)`` explicitly; nothing else reads env vars.

Values are read as people type them: a list as ``a,b`` or JSON, a size as ``2g``
(`dockfleet.models.units`), each setting also from a secret file
(``/run/secrets/dockfleet_redis_url``). A bad value from the configuration is a
`ConfigError` naming its variable; an unknown ``DOCKFLEET_*`` name is warned about.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from dockfleet.docker_env import DockerEnvSource
from dockfleet.errors import ConfigError
from dockfleet.models.container_spec import Bytes
from dockfleet.models.images import RegistryCredentials, normalize_registry
from dockfleet.policy_model import SecurityPolicy
from dockfleet.settings_names import warn_unknown
from dockfleet.settings_origin import Origin, config_error, origins
from dockfleet.settings_sources import (
    ARGUMENT,
    DOCKER_ENV,
    ENV,
    ENV_FILE,
    SECRETS_DIR,
    EnvFileSource,
    EnvSource,
    NamedSource,
    secrets_dir_source,
)

HostName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")]


#: the file `dockfleet up` writes in the state folder: the Redis URL of the fleet it runs
FLEET_ENV_FILE = "env"
#: where Docker (swarm, compose) and, by convention, Kubernetes mount secret files
SECRETS_DIR_DEFAULT = Path("/run/secrets")


def _machine_hostname() -> str:
    return socket.gethostname().split(".")[0] or "localhost"


def default_state_dir() -> Path:
    """Where `dockfleet up` keeps its state: $XDG_STATE_HOME/dockfleet, ~/.local/state/dockfleet."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local/state")
    return Path(base) / "dockfleet"


def default_secrets_dir() -> Path | None:
    """`SECRETS_DIR_DEFAULT` where this machine has it; else no secrets folder."""
    return SECRETS_DIR_DEFAULT if SECRETS_DIR_DEFAULT.is_dir() else None


class RetentionSettings(BaseModel):
    """How long what the fleet writes to Redis is kept."""

    results_seconds: int = Field(default=24 * 3600, gt=0)
    logs_seconds: int = Field(default=24 * 3600, gt=0)
    stats_samples_per_container: int = Field(default=360, gt=0)
    #: stats keys of a container expire this long after its last sample (it is gone)
    stats_seconds: int = Field(default=3600, gt=0)
    #: cleanup and reconcile reports kept per host
    maintenance_reports: int = Field(default=100, gt=0)


class CleanupSettings(BaseModel):
    """What `dockfleet.maintenance.cleanup` and `reconcile` may remove, and when.

    Only objects labelled ``dockfleet.managed=true`` are ever considered.
    Ages are in seconds. Image eviction starts when usage passes
    ``image_high_watermark`` percent and stops at ``image_low_watermark``:
    usage is the disk that holds the engine's data root when the worker can
    see it, else (or when ``image_budget_bytes`` is set) the engine's image
    layers as a percentage of that budget.
    """

    container_grace: float = Field(default=3600.0, ge=0, description="stopped for this long")
    network_grace: float = Field(default=3600.0, ge=0, description="empty and this old")
    image_min_age: float = Field(default=24 * 3600.0, ge=0, description="never younger")
    image_high_watermark: float = Field(default=85.0, gt=0, le=100)
    image_low_watermark: float = Field(default=70.0, ge=0, le=100)
    image_budget_bytes: Bytes | None = Field(default=None, description="bytes, or 50g")
    #: fnmatch patterns of image references never removed (e.g. "registry:5000/base/*")
    image_pins: list[str] = Field(default_factory=list)
    #: a job object without a lease is reaped after being seen orphaned this long
    orphan_grace: float = Field(default=300.0, ge=0)

    @model_validator(mode="after")
    def _watermarks(self) -> CleanupSettings:
        if self.image_low_watermark > self.image_high_watermark:
            raise ValueError("image_low_watermark must not exceed image_high_watermark")
        return self


class ImageSettings(BaseModel):
    """Pulls, pushes and builds (env ``DOCKFLEET_IMAGES__*``)."""

    pull_timeout: float = Field(default=1800.0, gt=0, description="seconds")
    build_timeout: float = Field(default=3600.0, gt=0, description="seconds")
    pull_attempts: int = Field(default=3, gt=0, description="tries on transient errors")
    #: an uploaded build context waits in Redis at most this long for its worker
    upload_ttl: int = Field(default=900, gt=0, description="seconds")
    upload_max_bytes: Bytes = Field(default=64 * 1024 * 1024, description="bytes, or 64m")


class Settings(BaseSettings):
    """Configuration of a dockfleet producer, worker, beat or CLI."""

    model_config = SettingsConfigDict(
        env_prefix="DOCKFLEET_", env_nested_delimiter="__", extra="ignore"
    )

    # -- the original manager's config -------------------------------------
    docker_host: str = "unix:///var/run/docker.sock"
    #: "auto" asks the engine (Docker 29 refuses clients below API 1.44); "1.41" pins one
    api_version: str = "auto"
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_ca_cert: str | None = None
    #: check the engine's certificate (off: DOCKER_CERT_PATH without DOCKER_TLS_VERIFY)
    tls_verify: bool = True
    allow_plain_tcp: bool = Field(
        default=False,
        description="let a worker drive a tcp:// engine off loopback without TLS",
    )
    max_containers: int = Field(default=100, gt=0)
    default_timeout: float = Field(default=30.0, gt=0, description="seconds")
    cleanup_interval: float = Field(default=300.0, gt=0, description="seconds")
    stats_interval: float = Field(default=10.0, gt=0, description="seconds")
    enable_monitoring: bool = True
    enable_auto_cleanup: bool = True
    enable_reconcile: bool = True
    reconcile_interval: float = Field(default=60.0, gt=0, description="seconds")
    #: how a worker samples stats: cgroup files when it sees them ("auto"), or always one
    stats_mode: Literal["auto", "cgroup", "api"] = "auto"
    cgroup_root: str = "/sys/fs/cgroup"

    # -- the fleet ---------------------------------------------------------
    redis_url: str = "redis://localhost:6379/0"
    redis_tls_ca: str | None = Field(
        default=None, description="CA file for a rediss:// URL (default: the system's CAs)"
    )
    host_name: HostName = Field(default_factory=_machine_hostname)
    heartbeat_interval: float = Field(default=5.0, gt=0, description="seconds")
    worker_concurrency: int = Field(default=4, gt=0)
    worker_pool: Literal["threads", "prefork", "solo"] = Field(
        default="threads",
        description="threads fits I/O-bound Docker work (~57 MB vs ~155 MB RSS for prefork)",
    )
    network_pool_size: int = Field(
        default=2,
        ge=0,
        description="idle job networks kept warm per host (0: none, a fresh one per job)",
    )
    network_pool_max: int = Field(default=16, ge=0, description="idle pooled networks kept at most")
    probe_image: str | None = Field(
        default=None,
        description="image with busybox that probes job services (unset: made from the "
        "worker's own busybox)",
    )
    state_resync_interval: float = Field(
        default=60.0, gt=0, description="seconds between full rewrites of the state cache"
    )
    job_lease_seconds: int = Field(
        default=15, ge=2, description="a dead worker's jobs are adopted this long after it died"
    )
    job_requeue_seconds: float = Field(
        default=30.0,
        ge=1,
        description="a job whose broker message was lost is sent again after this long",
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="worker, beat and exporter logs: text, or JSON lines"
    )
    state_dir: Path = Field(
        default_factory=default_state_dir,
        description="where `dockfleet up` keeps Redis data, logs, pids and credentials",
    )
    secrets_dir: Path | None = Field(
        default_factory=default_secrets_dir,
        description="folder of secret files, one per setting (dockfleet_redis_url...)",
    )
    transfer_window: int = Field(
        default=32 * 1024 * 1024,
        gt=0,
        description="bytes one streamed transfer (a workspace) holds in Redis at most",
    )
    transfer_idle_seconds: int = Field(
        default=60,
        ge=2,
        description="a transfer whose two ends both stopped leaves Redis this long after",
    )
    workspace_max_bytes: int = Field(
        default=2 * 1024 * 1024 * 1024,
        gt=0,
        description="largest workspace (its tar); the client and the worker refuse a larger one",
    )
    artifacts_dir: Path | None = Field(
        default=None,
        description="the worker's folder of job artifacts, one tar per job (default: "
        "<state_dir>/artifacts); a volume in docker-compose.yml",
    )
    artifact_ttl: int = Field(
        default=24 * 3600,
        ge=1,
        description="seconds a job's artifacts are kept; beat's cleanup removes them after",
    )
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    cleanup: CleanupSettings = Field(default_factory=CleanupSettings)
    policy: SecurityPolicy = Field(default_factory=SecurityPolicy)
    images: ImageSettings = Field(default_factory=ImageSettings)
    #: registry address -> credentials, used by workers when a call brings none
    #: (env JSON: DOCKFLEET_REGISTRY_AUTH='{"reg:5000": {"username": "u", "password": "p"}}')
    registry_auth: dict[str, RegistryCredentials] = Field(default_factory=dict)

    if not TYPE_CHECKING:
        # Hidden from mypy, whose pydantic plugin then still checks the keyword arguments.
        def __init__(self, **values: Any) -> None:
            """Read the settings; a bad value from the configuration is a `ConfigError`
            that names its variable (a bad argument stays a `ValidationError`)."""
            try:
                super().__init__(**values)
            except ValidationError as exc:
                problem = config_error(exc, type(self), type(self).named_sources(values))
                if problem is None:
                    raise
                raise problem from None
            except SettingsError as exc:  # a source could not be read at all
                cause = f": {exc.__cause__}" if exc.__cause__ else ""
                raise ConfigError(f"cannot read the settings ({exc}{cause})") from None
            self._warn_unknown_names()

    @classmethod
    def named_sources(
        cls, init_kwargs: dict[str, Any], init_settings: PydanticBaseSettingsSource | None = None
    ) -> list[NamedSource]:
        """Where settings are read, first first: arguments, ``DOCKFLEET_*``, Docker's own
        variables (`docker_env`), the fleet `dockfleet up` runs (its env file), the
        secrets folder.

        So after ``dockfleet up`` every command of any shell finds the fleet's Redis,
        while an explicit ``DOCKFLEET_REDIS_URL`` still wins; a shell set up for the
        docker CLI (``DOCKER_HOST``...) serves the fleet unless ``DOCKFLEET_*`` say else;
        and a secret file fills only what nothing else set.
        """
        given = init_kwargs.get("state_dir")
        state_dir = Path(given or os.environ.get("DOCKFLEET_STATE_DIR") or default_state_dir())
        fleet_env = state_dir / FLEET_ENV_FILE
        sources = [
            NamedSource(ARGUMENT, init_settings or InitSettingsSource(cls, init_kwargs)),
            NamedSource(ENV, EnvSource(cls)),
            NamedSource(DOCKER_ENV, DockerEnvSource(cls, init_kwargs)),
            NamedSource(ENV_FILE, EnvFileSource(cls, env_file=fleet_env), str(fleet_env)),
        ]
        if "secrets_dir" in init_kwargs:  # None: no secrets folder
            variable, chosen = "secrets_dir", init_kwargs["secrets_dir"]
        else:
            variable = "DOCKFLEET_SECRETS_DIR"
            chosen = os.environ.get(variable) or default_secrets_dir()
        if chosen is not None:
            folder = Path(chosen)
            source = secrets_dir_source(cls, folder, variable)
            sources.append(NamedSource(SECRETS_DIR, source, str(folder)))
        return sources

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The sources of `named_sources`, in their order."""
        init_kwargs = getattr(init_settings, "init_kwargs", {})
        return tuple(named.source for named in cls.named_sources(init_kwargs, init_settings))

    @classmethod
    def origins(cls, **init_kwargs: Any) -> dict[tuple[str, ...], Origin]:
        """Where each setting of ``Settings(**init_kwargs)`` comes from, by path."""
        return origins(cls, cls.named_sources(init_kwargs))

    def _warn_unknown_names(self) -> None:
        warn_unknown(os.environ, type(self))
        if self.secrets_dir is not None and self.secrets_dir.is_dir():
            files = [path.name for path in self.secrets_dir.iterdir()]
            warn_unknown(files, type(self), f"secrets dir {self.secrets_dir}")

    @field_validator("api_version")
    @classmethod
    def _api_version(cls, value: str) -> str:
        if value != "auto" and not _is_version(value):
            raise ValueError("must be 'auto' or a version such as '1.41'")
        return value

    @field_validator("docker_host")
    @classmethod
    def _docker_host(cls, value: str) -> str:
        if not value.startswith(("unix://", "tcp://", "ssh://", "http://", "https://", "npipe://")):
            raise ValueError("must be a Docker URL such as unix:///var/run/docker.sock")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("registry_auth")
    @classmethod
    def _registry_keys(
        cls, value: dict[str, RegistryCredentials]
    ) -> dict[str, RegistryCredentials]:
        return {normalize_registry(k): v for k, v in value.items()}

    def credentials_for(self, registry: str) -> RegistryCredentials | None:
        """The configured credentials of `registry`, if any."""
        return self.registry_auth.get(normalize_registry(registry))

    @property
    def uses_tls(self) -> bool:
        return bool(self.tls_cert or self.tls_ca_cert)

    @property
    def artifacts_folder(self) -> Path:
        """Where this worker keeps job artifacts: ``artifacts_dir``, else below ``state_dir``."""
        return self.artifacts_dir or self.state_dir / "artifacts"


def _is_version(value: str) -> bool:
    major, _, minor = value.partition(".")
    return major.isdigit() and minor.isdigit()
