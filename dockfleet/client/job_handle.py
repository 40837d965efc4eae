"""`JobHandle`: follow a job's log, wait for its result, cancel it.

Everything comes from Redis (the job's state hash and log stream), so a
handle works from any process, for any job id, while or after it runs, and
whatever happened to the worker that ran it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from dockfleet.client import artifacts
from dockfleet.client.transport import Transport
from dockfleet.errors import OperationTimeout
from dockfleet.models import LogLine
from dockfleet.models.artifacts import ArtifactsReport
from dockfleet.models.jobs import JobResult
from dockfleet.redis_retry import retrying
from dockfleet.store import job_logs, job_records
from dockfleet.store.host_records import read_hosts
from dockfleet.store.log_entries import is_end, line_of

Entry = tuple[str, dict[str, str]]

BLOCK_MS = 1000


class JobHandle:
    """A submitted job, by id."""

    def __init__(self, transport: Transport, job_id: str) -> None:
        self.transport = transport
        self.id = job_id

    def __repr__(self) -> str:
        return f"JobHandle({self.id!r}, state={self.state!r})"

    @property
    def state(self) -> str:
        """queued, running or finished ("" if the job is unknown or expired)."""
        return job_records.state(self.transport.redis, self.id)

    @property
    def result(self) -> JobResult | None:
        """The result once the job has finished, else None (never blocks)."""
        return job_records.result_of(job_records.read(self.transport.redis, self.id))

    def logs(self, follow: bool = True) -> Iterator[LogLine]:
        """The job's log from its first line; with `follow`, until the job finishes."""
        last_id = "0-0"
        while True:
            batch = self._xread(last_id, 500, BLOCK_MS if follow else None)
            if not batch:
                if not follow or self.state in ("", "finished") and not self._more(last_id):
                    return
                continue
            for entry_id, fields in batch:
                last_id = entry_id
                if is_end(fields):
                    return
                yield line_of(fields)

    def wait(self, timeout: float | None = None) -> JobResult:
        """Block until the job has finished; its one result.

        Raises:
            OperationTimeout: the job had not finished within `timeout` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        last_id = "$"
        while True:
            result = retrying(lambda: self.result, "waiting for a job")
            if result is not None:
                return result
            if deadline is not None and time.monotonic() >= deadline:
                raise OperationTimeout(f"job {self.id} still running after {timeout:g}s")
            # Wakes as soon as anything (the end marker included) lands in the stream.
            batch = self._xread(last_id, 100, BLOCK_MS)
            if batch:
                last_id = batch[-1][0]

    def cancel(self) -> str | None:
        """Cancel: a queued job never starts; a running one is stopped (SIGTERM, grace, SIGKILL).

        Returns the state the job was in (None for an unknown job).
        """
        retention = self.transport.settings.retention.results_seconds
        return job_records.request_cancel(self.transport.redis, self.id, retention)

    def download_artifacts(
        self,
        target: str | Path = ".",
        on_progress: Callable[[int, int], None] | None = None,
        *,
        wait: bool = False,
    ) -> ArtifactsReport:
        """Fetch the job's stored artifacts into the folder `target` (paths kept below it),
        streamed from the worker that holds them; their report.

        Args:
            on_progress: called with (bytes received, total; 0 while the total is not
                known yet).
            wait: for a job that may still run: wait for its artifacts, and download them
                while they are copied out of its container.

        Raises:
            TransferFailed: none stored (none asked or kept, or expired), or their holder
                is gone.
            PolicyViolation: a member would land outside `target`.
        """
        settings = self.transport.settings
        hosts = read_hosts(self.transport.redis, settings.heartbeat_interval)
        live = [h.name for h in hosts if h.up]
        return artifacts.download(
            self.transport, self.id, Path(target), live, on_progress, wait=wait
        )

    def _xread(self, last_id: str, count: int, block: int | None) -> list[Entry]:
        """Entries after `last_id`, riding out a Redis restart."""
        redis = self.transport.redis
        return retrying(
            lambda: job_logs.read(redis, self.id, last_id, count, block), "reading a job log"
        )

    def _more(self, last_id: str) -> bool:
        return job_logs.has_more(self.transport.redis, self.id, last_id)
