"""Streams events of a long task (build log lines, pull progress) to the one client reading.

The same protocol as container logs (`worker.log_stream`, read by
`dockfleet.client.logs.read_events`): entries in a Redis stream, an end marker
when the task is over, and a reader lease. Unlike a log follow, a build or pull
does not stop when its reader goes: it only stops writing to the stream.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from dockfleet import keys
from dockfleet.store.log_entries import end_entry, line_entry
from worker.runtime import Runtime

STREAM_TTL_SECONDS = 3600
LEASE_CHECK_SECONDS = 1.0
#: unread entries the stream may hold before the writer waits for its reader
BACKLOG_LIMIT = 5000
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
        stream_key = keys.log_stream(self.stream_id)
        self.rt.redis.xadd(stream_key, fields)  # type: ignore[arg-type]
        self.written += 1
        now = time.monotonic()
        if now - self._checked >= LEASE_CHECK_SECONDS:
            self._checked = now
            if not self.rt.redis.exists(keys.log_reader(self.stream_id)):
                self.reader_gone = True  # nobody reads: keep working, stop writing
                return
        if self.written % 500 == 0:
            self._wait_for_reader(stream_key)

    def line(self, text: str, stream: str = "stdout") -> None:
        """One log line, in the fields a `LogLine` reader expects."""
        self.emit(line_entry(stream, text, None))

    def end(self, summary: str = "") -> None:
        if self.stream_id is None:
            return
        stream_key = keys.log_stream(self.stream_id)
        pipe = self.rt.redis.pipeline(transaction=False)
        pipe.xadd(stream_key, end_entry(summary or "{}"))  # type: ignore[arg-type]
        pipe.expire(stream_key, STREAM_TTL_SECONDS)
        pipe.execute()

    def _wait_for_reader(self, stream_key: str) -> None:
        self.rt.redis.expire(stream_key, STREAM_TTL_SECONDS)
        deadline = time.monotonic() + BACKLOG_WAIT_SECONDS
        while int(self.rt.redis.xlen(stream_key)) > BACKLOG_LIMIT:
            reader = keys.log_reader(self.stream_id or "")
            if time.monotonic() > deadline or not self.rt.redis.exists(reader):
                self.reader_gone = True
                return
            time.sleep(0.05)


@contextmanager
def event_stream(rt: Runtime, stream_id: str | None) -> Iterator[EventStream]:
    """An `EventStream` whose end marker is written however the task ends."""
    stream = EventStream(rt, stream_id)
    try:
        yield stream
    finally:
        stream.end()
