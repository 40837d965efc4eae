"""Copies a job container's log into the job's Redis stream, exactly once per line.

Each batch of lines is written in one script with the cursor that says how far
the copy got (timestamp of the last line, lines seen at that timestamp, bytes,
count), so a worker that adopts the job after a crash resumes right after the
last line written: nothing is lost and nothing is written twice. The write is
fenced: it lands only while this worker holds the job's lease and the cursor
is where this copy left it (compare-and-set), so a worker that was paused
while another adopted the job cannot add a line. Secret values are masked
before a line leaves the worker; past the byte cap the copy stops with one
notice line and the truncated flag set.
"""

from __future__ import annotations

import queue
import threading
from datetime import datetime
from typing import Any

from dockfleet.models import LogOptions
from dockfleet.redis_retry import retrying
from dockfleet.store import job_logs
from dockfleet.store.log_entries import line_entry
from worker.engine.logs import LogReader
from worker.engine.objects import ContainerState
from worker.jobs.lease import Lease, LeaseLost
from worker.runtime import Runtime

BATCH_LINES = 1000
QUEUE_LINES = 20000
Line = tuple[str, str, datetime | None]


class JobLogCopy:
    def __init__(
        self,
        rt: Runtime,
        job_id: str,
        lease: Lease,
        secrets: list[str],
        limit: int,
        *,
        resume: bool = True,
    ) -> None:
        """`resume`: an earlier run may have copied part of the log (read its cursor)."""
        self.rt = rt
        self.job_id = job_id
        self.lease = lease
        self.secrets = secrets
        self.limit = limit
        fields: dict[str, str] = {}
        if resume:
            fields = retrying(lambda: job_logs.cursor(rt.redis, job_id), "reading a log cursor")
        self.cursor_ts = _parse(fields.get("log_ts", ""))
        self.at_cursor = int(fields.get("log_at_ts", 0))
        self.bytes = int(fields.get("log_bytes", 0))
        self.lines = int(fields.get("log_lines", 0))
        self.truncated = fields.get("log_truncated") == "1"
        self._reader: LogReader | None = None
        self._closed = threading.Event()
        self.error: BaseException | None = None

    def run(self, container: ContainerState) -> None:
        """Follow the container's log until it exits (or `close`); errors kept in `error`."""
        try:
            self._copy(container)
        except BaseException as exc:  # reported by the job, not lost in a thread
            if not self._closed.is_set():
                self.error = exc

    def close(self) -> None:
        self._closed.set()
        if self._reader is not None:
            self._reader.close()

    def _copy(self, container: ContainerState) -> None:
        if self.truncated:
            return
        since = self.cursor_ts.replace(microsecond=0) if self.cursor_ts else None
        options = LogOptions(follow=True, since=since)
        self._reader = LogReader(self.rt.docker, container, options, secrets=self.secrets)
        if self._closed.is_set():
            self._reader.close()
        # The engine is read in its own thread so that lines that arrive together are
        # written together (one MULTI per batch), while a lone line still goes at once.
        lines: queue.Queue[Line | None] = queue.Queue(maxsize=QUEUE_LINES)
        threading.Thread(target=self._read, args=(lines,), name="job-log-read", daemon=True).start()
        seen_at_cursor = 0
        while True:
            batch = [lines.get()]
            while len(batch) < BATCH_LINES and batch[-1] is not None:
                try:
                    batch.append(lines.get_nowait())
                except queue.Empty:
                    break
            fresh = []
            for item in batch:
                if item is None:
                    continue
                stamp = item[2]
                if self.cursor_ts and stamp and stamp <= self.cursor_ts:
                    # Already copied before an adoption: skip up to the cursor exactly.
                    if stamp < self.cursor_ts:
                        continue
                    seen_at_cursor += 1
                    if seen_at_cursor <= self.at_cursor:
                        continue
                fresh.append(item)
            # A batch of nothing (the log's end alone, or lines copied before an adoption)
            # moves no cursor: nothing to write, and the outcome's write is fenced anyway.
            if fresh and not self._write(fresh):
                self._reader.close()
                return
            if batch[-1] is None:
                return

    def _read(self, lines: queue.Queue[Line | None]) -> None:
        assert self._reader is not None
        try:
            for item in self._reader.lines():
                lines.put(item)
        except BaseException as exc:  # surfaced by run() through `error`
            if not self._closed.is_set():
                self.error = exc
        finally:
            lines.put(None)

    def _write(self, batch: list[Line]) -> bool:
        """Write a batch and the cursor at once; False once the cap is reached."""
        entries: list[dict[str, str]] = []
        before = f"{self.lines}:{int(self.truncated)}"
        within_cap = True
        for stream, text, stamp in batch:  # masked by the reader
            size = len(text.encode()) + 1
            if self.bytes + size > self.limit:
                self.truncated = True
                notice = f"dockfleet: log truncated at {self.bytes} bytes (log_limit {self.limit})"
                entries.append(line_entry("stderr", notice, None))
                within_cap = False
                break
            if stamp is not None and stamp == self.cursor_ts:
                self.at_cursor += 1
            elif stamp is not None:
                self.cursor_ts, self.at_cursor = stamp, 1
            self.bytes += size
            self.lines += 1
            entries.append(line_entry(stream, text, stamp))
        written = self._send(entries, before)
        if written == job_logs.LEASE_LAPSED and retrying(self.lease.acquire, "retaking a lease"):
            written = self._send(entries, before)  # it had lapsed, and nobody took it
        if written < 0:
            # Another worker has the job (it adopted it while this one was paused or
            # cut off from Redis): it copies the log from here; this copy stops.
            self.lease.lost.set()
            raise LeaseLost(self.job_id)
        return within_cap

    def _send(self, entries: list[dict[str, str]], before: str) -> int:
        """Write the batch and the cursor, fenced by the lease; safe to repeat."""
        cursor = self._cursor()
        after = f"{cursor['log_lines']}:{cursor['log_truncated']}"
        token = self.lease.token
        return retrying(
            lambda: job_logs.append(
                self.rt.redis, self.job_id, token, (before, after), cursor, entries
            ),
            "copying a job log",
        )

    def _cursor(self) -> dict[str, Any]:
        return {
            "log_ts": self.cursor_ts.isoformat() if self.cursor_ts else "",
            "log_at_ts": self.at_cursor,
            "log_bytes": self.bytes,
            "log_lines": self.lines,
            "log_truncated": int(self.truncated),
        }


def _parse(value: str) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
