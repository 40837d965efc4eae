"""Maintenance calls of the client: cleanup, reconcile, and the stats the sweeps keep."""

from __future__ import annotations

from collections.abc import Iterator

from dockfleet.client.base import SLACK_SECONDS, FleetBase, M
from dockfleet.models import CleanupReport, ContainerStats, ReconcileReport
from dockfleet.queues import TaskNames
from dockfleet.store import stats_history

#: a cleanup or reconcile may stop containers and remove images: give it time
MAINTENANCE_WAIT_SECONDS = 300.0


class MaintenanceMixin(FleetBase):
    """Cleanup and reconcile on demand; stats from Redis, as beat's sweeps write them."""

    def cleanup(self, host: str | None = None, dry_run: bool = False) -> list[CleanupReport]:
        """Clean `host` (default: every live host) now; `dry_run` only reports the plan."""
        return self._maintain(TaskNames.CLEANUP, host, dry_run, CleanupReport)

    def reconcile(self, host: str | None = None, dry_run: bool = False) -> list[ReconcileReport]:
        """Reap orphaned job objects and passed deadlines on `host` (default: every live host)."""
        return self._maintain(TaskNames.RECONCILE, host, dry_run, ReconcileReport)

    def _maintain(self, name: str, host: str | None, dry_run: bool, model: type[M]) -> list[M]:
        """A maintenance task on `host` or every live host at once: one report a host."""
        wait = MAINTENANCE_WAIT_SECONDS + SLACK_SECONDS
        rows = self._fan_out(name, [dry_run], self._targets(host), wait=wait)
        return [model.model_validate(r) for r in rows]

    def latest_stats(self, host: str | None = None) -> list[ContainerStats]:
        """The latest fresh sample of every running fleet container (of `host`, or all)."""
        self.transport.check_redis()
        hosts = [host] if host else [h.name for h in self.hosts()]
        interval = self.settings.stats_interval
        samples = stats_history.latest(self.transport.redis, hosts)
        return [s for s in samples if stats_history.is_fresh(s, interval)]

    def stats_history(
        self, container_id: str, host: str, count: int | None = None
    ) -> list[ContainerStats]:
        """The samples kept for one container (full id), oldest first."""
        return stats_history.history(self.transport.redis, host, container_id, count)

    def stats_stream(
        self,
        host: str | None = None,
        ids: list[str] | None = None,
        timeout: float | None = None,
    ) -> Iterator[ContainerStats]:
        """Samples as they are written (the original's stats channel), from now on.

        Args:
            host: only this host's containers.
            ids: only these containers (full or short ids, or names).
            timeout: stop after this many seconds; None follows until closed.
        """
        self.transport.check_redis()
        return stats_history.feed(
            self.transport.redis,
            hosts={host} if host else None,
            ids=set(ids) if ids else None,
            timeout=timeout,
        )
