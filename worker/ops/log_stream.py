"""Copies a container's log lines into a Redis stream that one client reads.

The client holds a lease key while it reads; when the lease lapses (reader
gone) a watchdog closes the engine connection and the copy ends. Lines are
masked for secret values before they leave the worker, and the copy waits
while the reader is far behind, so a slow reader cannot fill Redis.
"""

from __future__ import annotations

import threading

from dockfleet.models import LogOptions, LogSummary
from dockfleet.store import task_streams
from dockfleet.store.log_entries import line_entry
from worker.engine import containers as engine
from worker.engine.logs import LogReader
from worker.ops.container_ops import owned
from worker.process.periodic import Periodic
from worker.runtime import Runtime

LEASE_CHECK_SECONDS = 1.0


def copy_logs(rt: Runtime, ref: str, options: LogOptions, stream_id: str) -> LogSummary:
    container = engine.inspect_state(rt.docker, owned(rt, ref).id)
    reader = LogReader(rt.docker, container, options)
    reader_gone = threading.Event()

    def reader_still_there() -> bool:
        if task_streams.reader_present(rt.redis, stream_id):
            return True
        reader_gone.set()
        reader.close()
        return False

    name = f"logs-lease-{stream_id}"
    watchdog = Periodic(name, LEASE_CHECK_SECONDS, reader_still_there).start()
    lines = size = 0
    try:
        for stream, text, stamp in reader.lines():  # masked by the reader
            task_streams.add(rt.redis, stream_id, line_entry(stream, text, stamp))
            lines += 1
            size += len(text) + 1
            if lines % 500 == 0 and not task_streams.wait_for_reader(rt.redis, stream_id):
                reader_gone.set()
                break
    finally:
        watchdog.stop(wait=0)
        reader.close()
    ended = "canceled" if reader_gone.is_set() else "exited" if options.follow else "complete"
    summary = LogSummary(id=container.id, host=rt.host, lines=lines, bytes=size, follow_ended=ended)
    if reader_gone.is_set():
        # Nobody reads any more: the lines added since the reader dropped the stream made
        # it again (without a TTL), and an end entry would keep it an hour.
        task_streams.drop(rt.redis, stream_id)
    else:
        task_streams.end(rt.redis, stream_id, summary.model_dump_json())
    return summary
