"""Images through the fleet: references, registry credentials, pull/push specs and results.

Registry passwords are `SecretStr`: every dump shows them masked except the one
made for the wire to the worker (``context={"reveal_secrets": True}``), the
same rule as a container's secret env.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
)

from dockfleet.models.container_spec import FrozenModel
from dockfleet.models.container_state import Result
from dockfleet.models.fields import LabelSelector, Secret

DEFAULT_REGISTRY = "docker.io"
_HUB_ALIASES = ("index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")
#: repository path components and tags, as the distribution spec allows them
_REFERENCE_RE = re.compile(
    # a registry is a host: it has a dot or a port, or it is localhost (as the docker CLI reads it)
    r"^(?:(?P<registry>localhost(?::\d+)?|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+(?::\d+)?"
    r"|[a-zA-Z0-9-]+:\d+|\[[0-9a-fA-F:]+\](?::\d+)?)/)?"
    r"(?P<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}))?$"
)
MASK = "***"


def check_reference(value: str) -> str:
    """`value` if it is a valid image reference (``[registry/]repo[:tag][@digest]``)."""
    if not _REFERENCE_RE.match(value):
        raise ValueError(f"{value!r} is not an image reference such as registry:5000/team/app:1.0")
    return value


ImageReference = Annotated[str, AfterValidator(check_reference)]


def registry_of(reference: str) -> str:
    """The registry a reference points at; Docker Hub is ``docker.io``.

    Like the docker CLI, the first path component is a registry only when it
    looks like a host: it has a dot or a port, or it is ``localhost``.
    """
    first, sep, _ = reference.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        return normalize_registry(first)
    return DEFAULT_REGISTRY


def normalize_registry(address: str) -> str:
    """A registry address as a lookup key: no scheme, no path, Hub spelled ``docker.io``."""
    host = re.sub(r"^[a-z]+://", "", address.strip()).split("/", 1)[0].lower()
    return DEFAULT_REGISTRY if host in _HUB_ALIASES else host


def with_default_tag(reference: str) -> str:
    """`reference` with ``:latest`` added when it names neither a tag nor a digest."""
    if "@" in reference or ":" in reference.rsplit("/", 1)[-1]:
        return reference
    return f"{reference}:latest"


class RegistryCredentials(FrozenModel):
    """A username and password (or token) for one registry; the password never shows."""

    username: str = Field(min_length=1, max_length=256)
    password: Secret = Field(min_length=1)
    registry: str | None = Field(
        default=None, description="server address; default: the registry of the reference"
    )

    def auth_config(self, reference: str) -> dict[str, str]:
        """The engine's ``X-Registry-Auth`` fields, in the clear: for the worker only."""
        return {
            "username": self.username,
            "password": self.password.get_secret_value(),
            "serveraddress": self.registry or registry_of(reference),
        }


class PullSpec(FrozenModel):
    """What a pull asks for: the reference and, optionally, credentials for its registry."""

    reference: ImageReference
    credentials: RegistryCredentials | None = None
    platform: str | None = Field(default=None, pattern=r"^[a-z0-9]+/[a-z0-9]+(/[a-z0-9]+)?$")


class PushSpec(FrozenModel):
    """What a push asks for: a local reference that names its registry, and credentials."""

    reference: ImageReference
    credentials: RegistryCredentials | None = None


class ImageFilter(FrozenModel):
    """Which images to list; every criterion must hold."""

    reference: str | None = Field(default=None, description="docker's reference filter: app:*")
    dangling: bool | None = None
    labels: LabelSelector = Field(default_factory=dict)
    managed_only: bool = Field(default=False, description="only images the fleet built")
    host: str | None = None


class ImageInfo(Result):
    """An image on one host (a safe summary of `docker image inspect`)."""

    id: str
    host: str
    tags: list[str] = Field(default_factory=list)
    digests: list[str] = Field(default_factory=list)
    size: int = 0
    created: datetime | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    managed: bool = Field(default=False, description="built by the fleet (ownership labels)")
    user: str = Field(default="", description="the image's USER ('' runs as root); inspect only")

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]


class TransferProgress(Result):
    """Where a pull or push stands: layers done out of known layers, bytes moved."""

    reference: str
    host: str
    action: Literal["pull", "push"] = "pull"
    status: str = ""
    layers_done: int = 0
    layers_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    waiting: bool = Field(
        default=False, description="another pull of this reference on the host is running"
    )


class PushResult(Result):
    reference: str
    host: str
    digest: str = ""
    size: int = 0


class ImageRemoveResult(Result):
    reference: str
    host: str
    removed: bool = Field(description="false when it was already gone")
    untagged: list[str] = Field(default_factory=list)
    deleted: list[str] = Field(default_factory=list)
