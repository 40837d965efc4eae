"""Container calls of the client: create, lifecycle, logs, stats, listing and batches."""

from __future__ import annotations

import uuid
from collections.abc import Generator

from dockfleet.client.base import SLACK_SECONDS, FleetBase
from dockfleet.client.logs import read_stream, take_lease
from dockfleet.client.state_cache import cached_listing
from dockfleet.models import (
    BatchAction,
    BatchOutcome,
    ContainerConfig,
    ContainerFilter,
    ContainerInfo,
    ContainerStats,
    LogLine,
    LogOptions,
    RemoveResult,
    WaitResult,
)
from dockfleet.models.container_state import listing_order
from dockfleet.policy import check_container
from dockfleet.policy_scope import check_user_container
from dockfleet.queues import SHARED_QUEUE, TaskNames, host_queue
from dockfleet.store import routing_index, stats_history
from dockfleet.validation import parse


class ContainersMixin(FleetBase):
    def create_container(self, config: ContainerConfig, host: str | None = None) -> ContainerInfo:
        """Create a container on `host`, or on whichever live host takes it.

        Raises:
            InvalidSpec, PolicyViolation: before anything is sent.
            ContainerLimitReached, ImageNotFound: from the worker.
        """
        config = parse(ContainerConfig, config)
        check_container(config, self.settings.policy)
        check_user_container(config)
        if config.request_id is None:
            # A redelivered create carries the same id, so the worker adopts, not duplicates.
            config = config.model_copy(update={"request_id": uuid.uuid4().hex})
        queue = host_queue(host) if host else SHARED_QUEUE
        if not host and not self.live_hosts():
            raise self.transport.no_live_host()
        wire = config.model_dump(mode="json", context={"reveal_secrets": True})
        shown = repr([config.model_dump(mode="json")])  # what Flower shows: secrets masked
        result = self.transport.call(TaskNames.CREATE, [wire], queue, argsrepr=shown)
        return ContainerInfo.model_validate(result)

    def start_container(self, ref: str, host: str | None = None) -> ContainerInfo:
        return ContainerInfo.model_validate(self._on_container(TaskNames.START, ref, [], host))

    def stop_container(
        self, ref: str, timeout: int | None = None, host: str | None = None
    ) -> ContainerInfo:
        """Stop a container, killing it after `timeout` seconds (default: the settings')."""
        return self._stop(TaskNames.STOP, ref, timeout, host)

    def restart_container(
        self, ref: str, timeout: int | None = None, host: str | None = None
    ) -> ContainerInfo:
        """Restart a container; the stop kills it after `timeout` seconds as `stop_container`."""
        return self._stop(TaskNames.RESTART, ref, timeout, host)

    def _stop(self, name: str, ref: str, timeout: int | None, host: str | None) -> ContainerInfo:
        """Stop or restart: the caller waits the grace the engine may wait, and some more."""
        wait = self._grace(timeout) + SLACK_SECONDS
        return ContainerInfo.model_validate(self._on_container(name, ref, [timeout], host, wait))

    def kill_container(
        self, ref: str, signal: str = "SIGKILL", host: str | None = None
    ) -> ContainerInfo:
        return ContainerInfo.model_validate(self._on_container(TaskNames.KILL, ref, [signal], host))

    def remove_container(
        self, ref: str, force: bool = False, host: str | None = None
    ) -> RemoveResult:
        return RemoveResult.model_validate(self._on_container(TaskNames.REMOVE, ref, [force], host))

    def wait_container(
        self, ref: str, timeout: float | None = None, host: str | None = None
    ) -> WaitResult:
        wait = (timeout or 24 * 3600.0) + SLACK_SECONDS
        raw = self._on_container(TaskNames.WAIT, ref, [timeout], host, wait=wait)
        return WaitResult.model_validate(raw)

    def inspect_container(self, ref: str, host: str | None = None) -> ContainerInfo:
        return ContainerInfo.model_validate(self._on_container(TaskNames.INSPECT, ref, [], host))

    def get_container_stats(self, ref: str, host: str | None = None) -> ContainerStats:
        """The container's latest sample from the stats sweeps when fresh, else a live one.

        A fresh sample costs one Redis read; the live fallback (monitoring off,
        a container started since the last sweep) asks its worker, about 2 s.
        """
        hosts = [host] if host else routing_index.hosts_of(self.transport.redis, ref)
        sample = stats_history.find(self.transport.redis, ref, hosts or self.live_hosts())
        if sample is not None and stats_history.is_fresh(sample, self.settings.stats_interval):
            return sample
        return ContainerStats.model_validate(self._on_container(TaskNames.STATS, ref, [], host))

    def get_container_logs(
        self, ref: str, options: LogOptions | None = None, host: str | None = None
    ) -> Generator[LogLine, None, None]:
        """The container's output line by line; with ``follow`` until it exits.

        Closing the iterator early stops the worker's copy within about a second.
        """
        options = parse(LogOptions, options or {})
        target = host or self._router().locate(ref)
        stream_id = uuid.uuid4().hex
        take_lease(self.transport, stream_id)
        args = [ref, options.model_dump(mode="json"), stream_id]
        wait = 24 * 3600.0 if options.follow else self.settings.default_timeout
        result = self.transport.send(TaskNames.LOGS, args, host_queue(target), timeout=wait)
        return read_stream(self.transport, stream_id, result, target, self.settings.default_timeout)

    def list_containers(
        self, query: ContainerFilter | None = None, fresh: bool = False
    ) -> list[ContainerInfo]:
        """Fleet containers of every live host (or of ``query.host``), newest first.

        Answered from the state cache the workers keep in Redis (milliseconds for
        the whole fleet) when it is live; ``fresh=True`` asks every host instead.
        """
        query = parse(ContainerFilter, query or {})
        hosts = self._targets(query.host)
        resync = self.settings.state_resync_interval
        infos = None if fresh else cached_listing(self.transport.redis, hosts, query, resync)
        if infos is None:
            args = [query.model_dump(mode="json")]
            infos = self._gather(TaskNames.LIST, args, hosts, ContainerInfo)
        infos.sort(key=listing_order, reverse=True)
        return infos[: query.limit] if query.limit else infos

    def stop_containers(
        self, query: ContainerFilter, timeout: int | None = None
    ) -> list[BatchOutcome]:
        return self._batch("stop", query, timeout)

    def restart_containers(
        self, query: ContainerFilter, timeout: int | None = None
    ) -> list[BatchOutcome]:
        return self._batch("restart", query, timeout)

    def remove_containers(self, query: ContainerFilter) -> list[BatchOutcome]:
        return self._batch("remove", query, None)

    def _batch(
        self, action: BatchAction, query: ContainerFilter, timeout: int | None
    ) -> list[BatchOutcome]:
        """One task per host, all at once (a batch across the fleet)."""
        query = parse(ContainerFilter, query)
        wait = self._grace(timeout) * 4 + SLACK_SECONDS
        args = [action, query.model_dump(mode="json"), timeout]
        return self._gather(TaskNames.BATCH, args, self._targets(query.host), BatchOutcome, wait)
