"""`JobHandle`: follow a job's log, wait for its result, cancel it.

Everything comes from Redis (the job's state hash and log stream), so a
handle works from any process, for any job id, while or after it runs, and
whatever happened to the worker that ran it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from dockfleet import jobstate, keys
from dockfleet.client.logs import line_from_fields
from dockfleet.client.transport import Transport
from dockfleet.errors import OperationTimeout
from dockfleet.models import LogLine
from dockfleet.models.jobs import JobResult
from dockfleet.redis_retry import retrying

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
        return str(self.transport.redis.hget(keys.job(self.id), "state") or "")

    @property
    def result(self) -> JobResult | None:
        """The result once the job has finished, else None (never blocks)."""
        return jobstate.result_of(jobstate.read(self.transport.redis, self.id))

    def logs(self, follow: bool = True) -> Iterator[LogLine]:
        """The job's log from its first line; with `follow`, until the job finishes."""
        last_id = "0-0"
        while True:
            batch = self._xread(last_id, 500, BLOCK_MS if follow else None)
            if not batch:
                if not follow or self.state in ("", "finished") and not self._more(last_id):
                    return
                continue
            for entry_id, fields in batch[0][1]:
                last_id = entry_id
                if jobstate.END_FIELD in fields:
                    return
                yield line_from_fields(fields)

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
                last_id = batch[0][1][-1][0]

    def cancel(self) -> str | None:
        """Cancel: a queued job never starts; a running one is stopped (SIGTERM, grace, SIGKILL).

        Returns the state the job was in (None for an unknown job).
        """
        retention = self.transport.settings.retention.results_seconds
        return jobstate.request_cancel(self.transport.redis, self.id, retention)

    def _xread(self, last_id: str, count: int, block: int | None) -> Any:
        """Entries after `last_id`, riding out a Redis restart."""
        stream = keys.job_log(self.id)
        redis = self.transport.redis
        return retrying(
            lambda: redis.xread({stream: last_id}, count=count, block=block), "reading a job log"
        )

    def _more(self, last_id: str) -> bool:
        tail: Any = self.transport.redis.xrange(keys.job_log(self.id), min=f"({last_id}", count=1)
        return bool(tail)
