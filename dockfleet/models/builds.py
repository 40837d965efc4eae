"""Image builds: `BuildOptions` (the original's), where the context comes from, and the result."""

from __future__ import annotations

import posixpath
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from dockfleet.models.container_spec import FrozenModel
from dockfleet.models.container_state import Result
from dockfleet.models.fields import UserLabels
from dockfleet.models.images import ImageReference

ARG_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
URL_SCHEMES = ("http://", "https://", "git://", "git@", "github.com/")


class BuildOptions(FrozenModel):
    """How to build: the original's tags, Dockerfile, no-cache and build args, and more."""

    tags: list[ImageReference] = Field(default_factory=list)
    dockerfile: str = Field(default="Dockerfile", min_length=1, max_length=512)
    no_cache: bool = False
    build_args: dict[str, str] = Field(default_factory=dict)
    labels: UserLabels = Field(default_factory=dict)
    target: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    pull: bool = Field(default=False, description="always try to pull a newer base image")

    @field_validator("dockerfile")
    @classmethod
    def _dockerfile_inside_context(cls, value: str) -> str:
        normal = posixpath.normpath(value)
        if value.startswith("/") or normal == ".." or normal.startswith("../"):
            raise ValueError("must be a path inside the build context")
        return value

    @field_validator("build_args")
    @classmethod
    def _arg_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not ARG_NAME_RE.match(key):
                raise ValueError(f"{key!r} is not a build argument name")
        return value


BuildContextKind = Literal["path", "upload", "url"]


class BuildContext(FrozenModel):
    """Where the worker finds the build context.

    ``path``: a folder on the worker's machine (under the policy's allowed host
    paths); ``upload``: a tar the client stored in Redis (the location is its
    upload id); ``url``: a remote context (tar or git) that the engine fetches.
    """

    kind: BuildContextKind
    location: str = Field(min_length=1, max_length=4096)

    @model_validator(mode="after")
    def _location_fits_kind(self) -> BuildContext:
        if self.kind == "path" and not self.location.startswith("/"):
            raise ValueError("a path context must be an absolute path on the worker's machine")
        if self.kind == "url" and not self.location.startswith(URL_SCHEMES):
            raise ValueError("a url context must be http(s):// or a git address")
        if self.kind == "upload" and not re.fullmatch(r"[0-9a-f]{16,64}", self.location):
            raise ValueError("an upload context is named by its upload id")
        return self


class BuildResult(Result):
    """A finished build: the image and every tag it got, on one host."""

    id: str
    host: str
    tags: list[str] = Field(default_factory=list)
    duration: float = Field(default=0.0, description="seconds")
    log_lines: int = 0

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]
