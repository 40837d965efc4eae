"""Copies a container's log lines into a Redis stream that one client reads.

The client holds a lease key while it reads; when the lease lapses (reader
gone) a watchdog closes the engine connection and the copy ends. Lines are
masked for secret values before they leave the worker, and the copy waits
while the reader is far behind, so a slow reader cannot fill Redis.
"""

from __future__ import annotations

import threading
import time

from dockfleet import keys
from dockfleet.models import LogOptions, LogSummary
from dockfleet.store.log_entries import end_entry, line_entry
from worker.containers import owned
from worker.engine import containers as engine
from worker.engine.logs import LogReader
from worker.runtime import Runtime

STREAM_TTL_SECONDS = 3600
LEASE_CHECK_SECONDS = 1.0
#: unread lines the stream may hold before the copy waits for its reader
BACKLOG_LIMIT = 5000


def copy_logs(rt: Runtime, ref: str, options: LogOptions, stream_id: str) -> LogSummary:
    doc = engine.inspect_raw(rt.docker, owned(rt, ref).id)
    stream_key, lease_key = keys.log_stream(stream_id), keys.log_reader(stream_id)
    reader = LogReader(rt.docker, doc, options)
    reader_gone = threading.Event()
    done = threading.Event()

    def watch_lease() -> None:
        while not done.wait(LEASE_CHECK_SECONDS):
            if not rt.redis.exists(lease_key):
                reader_gone.set()
                reader.close()
                return

    watchdog = threading.Thread(target=watch_lease, name=f"logs-lease-{stream_id}", daemon=True)
    watchdog.start()
    lines = size = 0
    try:
        for stream, text, stamp in reader.lines():  # masked by the reader
            rt.redis.xadd(stream_key, line_entry(stream, text, stamp))  # type: ignore[arg-type]
            lines += 1
            size += len(text) + 1
            if lines % 500 == 0:
                _wait_for_reader(rt, stream_key, reader_gone)
    finally:
        done.set()
        reader.close()
    ended = "canceled" if reader_gone.is_set() else "exited" if options.follow else "complete"
    summary = LogSummary(id=doc["Id"], host=rt.host, lines=lines, bytes=size, follow_ended=ended)
    pipe = rt.redis.pipeline(transaction=False)
    pipe.xadd(stream_key, end_entry(summary.model_dump_json()))  # type: ignore[arg-type]
    pipe.expire(stream_key, STREAM_TTL_SECONDS)
    pipe.execute()
    return summary


def _wait_for_reader(rt: Runtime, stream_key: str, reader_gone: threading.Event) -> None:
    rt.redis.expire(stream_key, STREAM_TTL_SECONDS)
    while not reader_gone.is_set() and int(rt.redis.xlen(stream_key)) > BACKLOG_LIMIT:
        time.sleep(0.05)
