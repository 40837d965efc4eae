"""System calls of the client: `docker info`, ping and disk usage of a host."""

from __future__ import annotations

from dockfleet.client.base import FleetBase
from dockfleet.models import DiskUsage, PingResult, SystemInfo
from dockfleet.queues import TaskNames


class SystemMixin(FleetBase):
    """Facts about the fleet's Docker hosts."""

    def get_system_info(self, host: str | None = None) -> SystemInfo:
        """`docker info` of `host` (may be omitted when the fleet has one host)."""
        target = host or self._only_host()
        return SystemInfo.model_validate(self._call(TaskNames.INFO, [], target))

    def system_info_all(self) -> list[SystemInfo]:
        return [self.get_system_info(h) for h in self.live_hosts()]

    def ping(self, host: str) -> PingResult:
        return PingResult.model_validate(self._call(TaskNames.PING, [], host))

    def disk_usage(self, host: str) -> DiskUsage:
        return DiskUsage.model_validate(self._call(TaskNames.DF, [], host))
