"""What a user asks for when creating a container: `ContainerConfig` and its parts.

Field names follow the original manager (snake_case); the rest is the
docker-run set a CI user reaches for. Every check here runs on the producer
before anything is enqueued, and again on the worker before any Docker call.
"""

from __future__ import annotations

import re
import shlex
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from dockfleet.models.fields import EnvList, SecretMap, UserLabels
from dockfleet.models.units import parse_duration, parse_size
from dockfleet.names import check_request_id, is_reserved_name

NAME_RE = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$")
VOLUME_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
HOST_PORT_RE = re.compile(
    r"^(?:(?P<ip>\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?(?P<port>\d+)?$"
)
CONTAINER_PORT_RE = re.compile(r"^(?P<port>\d+)(?:/(?P<proto>tcp|udp|sctp))?$")

Bytes = Annotated[int, BeforeValidator(parse_size), Field(gt=0)]
Seconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]


def _split_command(value: object) -> object:
    """Accept a shell-like string as well as a list (like docker-compose)."""
    if isinstance(value, str):
        return shlex.split(value)
    return value


Command = Annotated[list[str], BeforeValidator(_split_command)]


class FrozenModel(BaseModel):
    """Base of every spec: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class HealthCheckConfig(FrozenModel):
    """A container HEALTHCHECK; durations in seconds (or "5s", "1m")."""

    test: Command = Field(min_length=1)
    interval: Seconds = 30.0
    timeout: Seconds = 30.0
    retries: int = Field(default=3, ge=0)
    start_period: Seconds = 0.0

    @field_validator("test", mode="before")
    @classmethod
    def _shell_form(cls, value: object) -> object:
        # A bare string is a shell command, as in a Dockerfile's HEALTHCHECK.
        if isinstance(value, str):
            return ["CMD-SHELL", value]
        return value

    @field_validator("test")
    @classmethod
    def _known_form(cls, value: list[str]) -> list[str]:
        if value[0] not in ("CMD", "CMD-SHELL", "NONE"):
            value = ["CMD", *value]
        if value[0] != "NONE" and len(value) < 2:
            raise ValueError("needs a command after CMD or CMD-SHELL")
        return value


class Ulimit(FrozenModel):
    """One ulimit, as `docker run --ulimit name=soft:hard`."""

    name: str = Field(pattern=r"^[a-z]+$")
    soft: int = Field(ge=-1)
    hard: int = Field(ge=-1)

    @model_validator(mode="after")
    def _soft_below_hard(self) -> Ulimit:
        if self.hard != -1 and (self.soft == -1 or self.soft > self.hard):
            raise ValueError("soft limit must not exceed the hard limit")
        return self


class RestartPolicy(FrozenModel):
    """Docker's restart policy; `max_retry` applies to on-failure only."""

    name: Literal["no", "always", "on-failure", "unless-stopped"] = "no"
    max_retry: int = Field(default=0, ge=0)


class ContainerConfig(FrozenModel):
    """Everything needed to create one container on a fleet host."""

    # -- the original's fields --------------------------------------------
    name: str | None = None
    image: str = Field(min_length=1, max_length=512)
    tag: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
    cmd: Command | None = None
    env: EnvList = Field(default_factory=list, description='"KEY=VALUE" items, or {KEY: VALUE}')
    cpu_limit: float | None = Field(default=None, gt=0, description="cores")
    memory_limit: Bytes | None = Field(default=None, description="bytes (or 512m, 1g)")
    volumes: dict[str, str] = Field(
        default_factory=dict, description="host path or volume name -> container path[:ro]"
    )
    ports: dict[str, str] = Field(
        default_factory=dict, description="[ip:]host port -> container port[/proto]"
    )
    labels: UserLabels = Field(default_factory=dict)
    health_check: HealthCheckConfig | None = None

    # -- what a CI user reaches for -----------------------------------------
    secret_env: SecretMap = Field(
        default_factory=dict, description="env values masked in Flower, logs and results"
    )
    entrypoint: Command | None = None
    working_dir: str | None = None
    user: str | None = None
    network: str | None = None
    network_aliases: list[str] = Field(
        default_factory=list, description="DNS names of the container on `network`"
    )
    hostname: str | None = None
    read_only: bool = False
    tmpfs: dict[str, str] = Field(default_factory=dict, description="container path -> options")
    shm_size: Bytes | None = None
    pids_limit: int | None = Field(default=None, gt=0)
    cap_add: list[str] = Field(default_factory=list)
    cap_drop: list[str] = Field(default_factory=list, description="ALL is always dropped")
    security_opt: list[str] = Field(default_factory=list)
    ulimits: list[Ulimit] = Field(default_factory=list)
    restart_policy: RestartPolicy = Field(default_factory=RestartPolicy)
    init: bool = False
    privileged: bool = False
    stop_timeout: int | None = Field(default=None, ge=0, description="seconds")
    max_lifetime: Seconds | None = Field(
        default=None, description="stopped and removed by reconcile once this old (seconds)"
    )
    request_id: str | None = Field(
        default=None,
        max_length=64,
        description="set by the client: makes a redelivered create adopt, not duplicate",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not NAME_RE.match(value):
            raise ValueError("must match [a-zA-Z0-9][a-zA-Z0-9_.-]* (docker's container names)")
        return value.lstrip("/") if value else value

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        if any(c.isspace() for c in value) or value != value.strip("/:@"):
            raise ValueError(f"invalid image reference {value!r}")
        return value

    @field_validator("volumes")
    @classmethod
    def _volumes(cls, value: dict[str, str]) -> dict[str, str]:
        for source, target in value.items():
            if not (source.startswith("/") or VOLUME_NAME_RE.match(source)):
                raise ValueError(f"source {source!r} must be an absolute host path or a name")
            path, _, mode = target.partition(":")
            if not path.startswith("/") or mode not in ("", "ro", "rw"):
                raise ValueError(
                    f"target {target!r} must be an absolute container path, optionally :ro or :rw"
                )
        return value

    @field_validator("ports", mode="before")
    @classmethod
    def _ports_as_text(cls, value: object) -> object:
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        return value

    @field_validator("ports")
    @classmethod
    def _ports(cls, value: dict[str, str]) -> dict[str, str]:
        for host, container in value.items():
            host_match = HOST_PORT_RE.match(host)
            port_match = CONTAINER_PORT_RE.match(container)
            if not host_match or not port_match:
                raise ValueError(f"{host!r}: {container!r} is not [ip:]port -> port[/tcp|udp]")
            host_port = host_match.group("port")
            if host_port is not None and not 0 <= int(host_port) <= 65535:
                raise ValueError(f"host port {host_port} is out of range 0-65535")
            if not 1 <= int(port_match.group("port")) <= 65535:
                raise ValueError(f"container port {container} is out of range 1-65535")
        return value

    @field_validator("network")
    @classmethod
    def _network(cls, value: str | None) -> str | None:
        # The runner puts its own containers on dfj-/dfp- networks through model_copy,
        # which does not validate: only a user's spec comes through here.
        if value is not None and is_reserved_name(value):
            raise ValueError(f"{value!r}: dfj-/dfp- networks are the fleet's jobs' own")
        return value

    @field_validator("request_id")
    @classmethod
    def _request_id(cls, value: str | None) -> str | None:
        return value if value is None else check_request_id(value)

    @field_validator("tmpfs", "working_dir", mode="after")
    @classmethod
    def _absolute_paths(cls, value: dict[str, str] | str | None) -> dict[str, str] | str | None:
        paths = value.keys() if isinstance(value, dict) else [value] if value else []
        for path in paths:
            if not path.startswith("/"):
                raise ValueError(f"{path!r} must be an absolute container path")
        return value

    @field_validator("cap_add", "cap_drop")
    @classmethod
    def _capabilities(cls, value: list[str]) -> list[str]:
        names = [c.upper().removeprefix("CAP_") for c in value]
        for name in names:
            if not re.fullmatch(r"[A-Z_]+", name):
                raise ValueError(f"{name!r} is not a capability name")
        return names

    @field_validator("tag")
    @classmethod
    def _tag_once(cls, value: str | None, info: ValidationInfo) -> str | None:
        image = info.data.get("image", "")
        if value and (":" in image.rsplit("/", 1)[-1] or "@" in image):
            raise ValueError("give the tag either in image or in tag, not both")
        return value

    @model_validator(mode="after")
    def _aliases_need_a_network(self) -> ContainerConfig:
        if self.network_aliases and self.network in (None, "host", "none", "bridge", "default"):
            raise ValueError("network_aliases: need a user-defined network in `network`")
        return self

    @property
    def reference(self) -> str:
        """The full image reference, image:tag."""
        return f"{self.image}:{self.tag}" if self.tag else self.image

    def secret_values_by_key(self) -> list[tuple[str, str]]:
        """(name, value) of each secret env variable, in the clear: for the worker only."""
        return [(k, v.get_secret_value()) for k, v in self.secret_env.items()]
