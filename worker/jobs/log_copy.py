"""Copies a job container's log into the job's Redis stream, exactly once per line.

Each line is written in one MULTI with the cursor that says how far the copy
got (timestamp of the last line, lines seen at that timestamp, bytes, count),
so a worker that adopts the job after a crash resumes right after the last
line written: nothing is lost and nothing is written twice. Secret values are
masked before a line leaves the worker; past the byte cap the copy stops with
one notice line and the truncated flag set.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from dockfleet import keys
from dockfleet.models import LogOptions
from worker.engine.logs import LogReader
from worker.runtime import Runtime

MASK = "***"


class JobLogCopy:
    def __init__(self, rt: Runtime, job_id: str, secrets: list[str], limit: int) -> None:
        self.rt = rt
        self.job_id = job_id
        self.secrets = secrets
        self.limit = limit
        fields: dict[str, str] = rt.redis.hgetall(keys.job(job_id))  # type: ignore[assignment]
        self.cursor_ts = _parse(fields.get("log_ts", ""))
        self.at_cursor = int(fields.get("log_at_ts", 0))
        self.bytes = int(fields.get("log_bytes", 0))
        self.lines = int(fields.get("log_lines", 0))
        self.truncated = fields.get("log_truncated") == "1"
        self._reader: LogReader | None = None
        self._closed = threading.Event()
        self.error: BaseException | None = None

    def run(self, container: dict[str, Any]) -> None:
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

    def _copy(self, container: dict[str, Any]) -> None:
        if self.truncated:
            return
        since = self.cursor_ts.replace(microsecond=0) if self.cursor_ts else None
        options = LogOptions(follow=True, since=since)
        self._reader = LogReader(self.rt.docker, container, options)
        if self._closed.is_set():
            self._reader.close()
        seen_at_cursor = 0
        for stream, text, stamp in self._reader.lines():
            if self.cursor_ts and stamp and stamp <= self.cursor_ts:
                # Already copied before an adoption: skip up to the cursor exactly.
                if stamp < self.cursor_ts:
                    continue
                seen_at_cursor += 1
                if seen_at_cursor <= self.at_cursor:
                    continue
            for secret in self.secrets:
                text = text.replace(secret, MASK)
            size = len(text.encode()) + 1
            if self.bytes + size > self.limit:
                self._truncate()
                return
            self._write(stream, text, stamp, size)

    def _write(self, stream: str, text: str, stamp: datetime | None, size: int) -> None:
        if stamp is not None and stamp == self.cursor_ts:
            self.at_cursor += 1
        elif stamp is not None:
            self.cursor_ts, self.at_cursor = stamp, 1
        self.bytes += size
        self.lines += 1
        pipe = self.rt.redis.pipeline(transaction=True)
        entry = {"s": stream, "l": text, "t": stamp.isoformat() if stamp else ""}
        pipe.xadd(keys.job_log(self.job_id), entry)  # type: ignore[arg-type]
        pipe.hset(keys.job(self.job_id), mapping=self._cursor())
        pipe.execute()

    def _truncate(self) -> None:
        self.truncated = True
        notice = f"dockfleet: log truncated at {self.bytes} bytes (log_limit {self.limit})"
        pipe = self.rt.redis.pipeline(transaction=True)
        pipe.xadd(keys.job_log(self.job_id), {"s": "stderr", "l": notice, "t": ""})
        pipe.hset(keys.job(self.job_id), mapping=self._cursor())
        pipe.execute()

    def _cursor(self) -> dict[Any, Any]:
        return {
            "log_ts": self.cursor_ts.isoformat() if self.cursor_ts else "",
            "log_at_ts": self.at_cursor,
            "log_bytes": self.bytes,
            "log_lines": self.lines,
            "log_truncated": int(self.truncated),
        }


def _parse(value: str) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
