"""What the maintenance tasks report: stats sweeps, cleanup and reconcile runs, dispatches."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from dockfleet.models.container_state import Result

ObjectKind = Literal["container", "image", "network", "cache", "artifacts"]
SamplingMode = Literal["cgroup", "api", "mixed", "none"]


class RemovedObject(Result):
    """One object a cleanup or reconcile run removed (or, in a dry run, would remove)."""

    kind: ObjectKind
    id: str
    name: str = ""
    reason: str
    size: int = Field(default=0, description="bytes reclaimed (images, caches), 0 when unknown")
    job: str | None = None


class RunReport(Result):
    """What a maintenance run that removes objects did on one host (in a dry run: would do).

    Its fields come first in each report; each kind of run adds its own after them.
    """

    host: str
    dry_run: bool
    started_at: datetime
    duration_ms: float = 0.0
    removed: list[RemovedObject] = Field(default_factory=list)

    def of_kind(self, kind: ObjectKind) -> list[RemovedObject]:
        return [r for r in self.removed if r.kind == kind]


class CleanupReport(RunReport):
    """One cleanup run on one host."""

    bytes_reclaimed: int = 0
    usage_percent: float | None = Field(
        default=None, description="disk (or image budget) use before the run"
    )
    usage_basis: Literal["disk", "budget", "none"] = "none"
    errors: list[str] = Field(default_factory=list)


class ReconcileReport(RunReport):
    """One reconcile run on one host: orphaned job objects and passed deadlines."""

    suspects: int = Field(default=0, description="orphan candidates still within their grace")
    errors: list[str] = Field(default_factory=list)


class SweepResult(Result):
    """One stats sweep of one host."""

    host: str
    mode: SamplingMode
    containers: int
    duration_ms: float
    skipped: bool = Field(default=False, description="another sweep of this host was running")


class DispatchResult(Result):
    """What one beat tick fanned out: one task per live host queue."""

    kind: str
    hosts: list[str] = Field(default_factory=list)
    duplicate: bool = Field(default=False, description="dropped: this tick was already sent")
