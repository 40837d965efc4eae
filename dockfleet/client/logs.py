"""Reads a log stream that a worker's logs task writes (see `worker.ops.log_stream`).

The reader holds a lease key while it iterates; closing the iterator (or the
process dying) lets the lease lapse and the worker stops following. Entries
are trimmed as they are read, which is what lets the worker apply backpressure.
"""

from __future__ import annotations

import time
from collections.abc import Generator

from celery.result import AsyncResult

from dockfleet.client.transport import Transport
from dockfleet.errors import HostUnavailable
from dockfleet.models import LogLine
from dockfleet.store import task_streams
from dockfleet.store.log_entries import is_end, line_of

BLOCK_MS = 1000


def take_lease(transport: Transport, stream_id: str) -> None:
    task_streams.hold_reader_lease(transport.redis, stream_id)


def read_stream(
    transport: Transport,
    stream_id: str,
    result: AsyncResult,  # type: ignore[type-arg]
    host: str,
    start_timeout: float,
) -> Generator[LogLine, None, None]:
    events = read_events(transport, stream_id, result, host, start_timeout)
    try:
        for fields in events:
            yield line_of(fields)
    finally:
        events.close()


def read_events(
    transport: Transport,
    stream_id: str,
    result: AsyncResult,  # type: ignore[type-arg]
    host: str,
    start_timeout: float,
) -> Generator[dict[str, str], None, None]:
    """The raw entries of a stream a task writes (log lines, build lines, progress).

    Ends at the task's end marker; raises the task's error if it failed without
    one, and `HostUnavailable` if no worker took the task within `start_timeout`.
    """
    redis = transport.redis
    last_id = "0-0"
    lease_renewed = started = time.monotonic()
    try:
        while True:
            now = time.monotonic()
            if now - lease_renewed > task_streams.READER_LEASE_SECONDS / 3:
                task_streams.hold_reader_lease(redis, stream_id)
                lease_renewed = now
            batch = task_streams.read(redis, stream_id, last_id, 500, BLOCK_MS)
            if not batch:
                if result.ready():
                    result.get(propagate=True)  # raises the worker's error, if any
                    return  # finished without an end marker: nothing more will come
                if result.state == "PENDING" and now - started > start_timeout:
                    reason = f"no worker took the task within {start_timeout:g}s"
                    raise HostUnavailable(host, reason)
                continue
            for entry_id, fields in batch:
                last_id = entry_id
                if is_end(fields):
                    return
                yield fields
            task_streams.trim(redis, stream_id, last_id)
    finally:
        task_streams.drop(redis, stream_id)
