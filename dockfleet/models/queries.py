"""How users select containers and logs: `ContainerFilter`, `LogOptions`."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator

from dockfleet.models.container_spec import FrozenModel
from dockfleet.models.fields import LabelSelector

ContainerStatus = Literal[
    "created", "restarting", "running", "removing", "paused", "exited", "dead"
]


class ContainerFilter(FrozenModel):
    """Which containers to list or act on; every criterion must hold."""

    status: list[ContainerStatus] = Field(default_factory=list)
    labels: LabelSelector = Field(
        default_factory=dict, description="key -> value, or key -> None for 'has the label'"
    )
    name: str | None = Field(default=None, description="substring of the name, as docker's")
    limit: int | None = Field(default=None, ge=1)
    host: str | None = None
    include_unmanaged: bool = Field(
        default=False, description="also list containers the fleet did not create"
    )

    @field_validator("labels")
    @classmethod
    def _label_keys(cls, value: dict[str, str | None]) -> dict[str, str | None]:
        if any(not key for key in value):
            raise ValueError("label keys must not be empty")
        return value


class LogOptions(FrozenModel):
    """Which part of a container's output to read."""

    show_stdout: bool = True
    show_stderr: bool = True
    follow: bool = False
    tail: int | None = Field(default=None, ge=0, description="last N lines; None for all")
    since: datetime | None = None
    timestamps: bool = False
