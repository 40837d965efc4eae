"""Streams events of a long task (build log lines, pull progress) to the one client reading.

The same protocol as container logs (`worker.ops.log_stream`, read by
`dockfleet.client.logs.read_events`): entries in a Redis stream, an end marker
when the task is over, and a reader lease. Unlike a log follow, a build or pull
does not stop when its reader goes: it only stops writing to the stream.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from dockfleet.store import task_streams
from dockfleet.store.log_entries import line_entry
from worker.runtime import Runtime

LEASE_CHECK_SECONDS = 1.0
#: how long the writer waits for a reader that is far behind before it stops writing
BACKLOG_WAIT_SECONDS = 30.0


class EventStream:
    """Writes entries for one reader; a no-op when the caller asked for no stream."""

    def __init__(self, rt: Runtime, stream_id: str | None) -> None:
        self.rt = rt
        self.stream_id = stream_id
        self.reader_gone = stream_id is None
        self.written = 0
        self._checked = time.monotonic()

    def emit(self, fields: dict[str, str]) -> None:
        if self.reader_gone or self.stream_id is None:
            return
        task_streams.add(self.rt.redis, self.stream_id, fields)
        self.written += 1
        now = time.monotonic()
        if now - self._checked >= LEASE_CHECK_SECONDS:
            self._checked = now
            if not task_streams.reader_present(self.rt.redis, self.stream_id):
                self.reader_gone = True  # nobody reads: keep working, stop writing
                return
        if self.written % 500 == 0 and not task_streams.wait_for_reader(
            self.rt.redis, self.stream_id, BACKLOG_WAIT_SECONDS
        ):
            self.reader_gone = True

    def line(self, text: str, stream: str = "stdout") -> None:
        """One log line, in the fields a `LogLine` reader expects."""
        self.emit(line_entry(stream, text, None))

    def end(self, summary: str = "") -> None:
        if self.stream_id is not None:
            task_streams.end(self.rt.redis, self.stream_id, summary or "{}")


@contextmanager
def event_stream(rt: Runtime, stream_id: str | None) -> Iterator[EventStream]:
    """An `EventStream` whose end marker is written however the task ends."""
    stream = EventStream(rt, stream_id)
    try:
        yield stream
    finally:
        stream.end()
