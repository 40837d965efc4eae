"""Job caches as ``dockfleet cache ls`` shows them: one volume per key and host."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from dockfleet.models.container_state import Result


class CacheInfo(Result):
    """One job cache on one host."""

    key: str
    host: str
    volume: str = Field(description="the engine's volume that holds it")
    size: int | None = Field(default=None, description="bytes; None when the engine has no figure")
    last_used: datetime | None = Field(default=None, description="when a job last mounted it")
    in_use: list[str] = Field(
        default_factory=list, description="names of the running containers that mount it"
    )
