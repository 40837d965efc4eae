"""A task's stream to the one client that reads it: a container's log, build lines, pull progress.

`keys.log_stream(id)` holds the entries (`log_entries`) and then one end entry;
it is kept `STREAM_TTL_SECONDS` after the writer last touched it.
`keys.log_reader(id)` is the reader's lease, renewed while it reads: once it
lapses the writer stops writing (and a log follow stops following). The reader
trims what it has read, so the stream's length is the reader's backlog, which
the writer keeps under `BACKLOG_LIMIT` by waiting.
Writers: `worker.ops.log_stream`, `worker.ops.event_stream`; reader: `dockfleet.client.logs`.
"""

from __future__ import annotations

import time
from typing import Any

import redis

from dockfleet import keys
from dockfleet.store.log_entries import end_entry

STREAM_TTL_SECONDS = 3600
READER_LEASE_SECONDS = 15
#: unread entries the stream may hold before the writer waits for its reader
BACKLOG_LIMIT = 5000
_BACKLOG_POLL_SECONDS = 0.05

Entry = tuple[str, dict[str, str]]


# -- the writer -------------------------------------------------------------------------


def add(client: redis.Redis, stream_id: str, entry: dict[str, str]) -> None:
    client.xadd(keys.log_stream(stream_id), entry)  # type: ignore[arg-type]


def end(client: redis.Redis, stream_id: str, summary_json: str) -> None:
    """The last entry: the task is over (its summary), kept for the reader a while."""
    stream = keys.log_stream(stream_id)
    pipe = client.pipeline(transaction=False)
    pipe.xadd(stream, end_entry(summary_json))  # type: ignore[arg-type]
    pipe.expire(stream, STREAM_TTL_SECONDS)
    pipe.execute()


def reader_present(client: redis.Redis, stream_id: str) -> bool:
    return bool(client.exists(keys.log_reader(stream_id)))


def wait_for_reader(client: redis.Redis, stream_id: str, patience: float | None = None) -> bool:
    """Wait while the reader is `BACKLOG_LIMIT` entries behind; False when it is gone (or,
    with `patience` seconds, too slow for that long): stop writing then."""
    stream = keys.log_stream(stream_id)
    client.expire(stream, STREAM_TTL_SECONDS)
    deadline = None if patience is None else time.monotonic() + patience
    while int(client.xlen(stream)) > BACKLOG_LIMIT:
        if not reader_present(client, stream_id):
            return False
        if deadline is not None and time.monotonic() > deadline:
            return False
        time.sleep(_BACKLOG_POLL_SECONDS)
    return True


# -- the reader -------------------------------------------------------------------------


def hold_reader_lease(client: redis.Redis, stream_id: str) -> None:
    """Take or renew the reader's lease (renew it every third of `READER_LEASE_SECONDS`)."""
    client.set(keys.log_reader(stream_id), "1", ex=READER_LEASE_SECONDS)


def read(
    client: redis.Redis, stream_id: str, after: str, count: int, block_ms: int | None
) -> list[Entry]:
    """Up to `count` entries after entry id `after`, waiting up to `block_ms` for the first."""
    answer: Any = client.xread({keys.log_stream(stream_id): after}, count=count, block=block_ms)
    return list(answer[0][1]) if answer else []


def trim(client: redis.Redis, stream_id: str, through: str) -> None:
    """Drop the entries read, up to entry id `through` (the writer sees the backlog shrink)."""
    client.xtrim(keys.log_stream(stream_id), minid=through)


def drop(client: redis.Redis, stream_id: str) -> None:
    """The reader is done: its lease and the stream go."""
    client.delete(keys.log_reader(stream_id), keys.log_stream(stream_id))
