"""A job's log: its Redis stream, and the copy cursor kept in the job's record.

The stream `keys.job_log(id)` holds the job's lines in order, then one end
entry with the result (written with the result, `job_records.finish`:
`lua/job_end.lua`). The cursor (``log_ts``, ``log_at_ts``, ``log_bytes``,
``log_lines``, ``log_truncated`` in the job's record) says how far the copy
got, so that an adopting worker resumes right after the last line written. Lines and cursor
move together, for the lease holder only (`lua/log_append.lua`).
Writer: `worker.jobs.log_copy`; reader: `dockfleet.client.job_handle`.
"""

from __future__ import annotations

from typing import Any

import redis

from dockfleet import keys
from dockfleet.store.scripts import LuaScript

_APPEND = LuaScript("log_append")
#: what `append` answers: written; written already (a repeat); the lease is not ours;
#: another copy moved the cursor
WRITTEN, REPEATED, LEASE_LAPSED, CURSOR_MOVED = 1, 0, -1, -2
CURSOR_FIELDS = ("log_ts", "log_at_ts", "log_bytes", "log_lines", "log_truncated")


def cursor(client: redis.Redis, job_id: str) -> dict[str, str]:
    """How far the copy of the job's log got (empty fields before the first line)."""
    values = client.hmget(keys.job(job_id), list(CURSOR_FIELDS))
    return {field: str(v) for field, v in zip(CURSOR_FIELDS, values, strict=True) if v is not None}


def append(
    client: redis.Redis,
    job_id: str,
    lease_token: str,
    moved: tuple[str, str],
    cursor_after: dict[str, Any],
    entries: list[dict[str, str]],
) -> int:
    """Add `entries` and set the cursor, if the lease is ours and the cursor is still at
    `moved[0]` (``"<lines>:<truncated>"``; `moved[1]` is where it goes). Safe to repeat."""
    before, after = moved
    args: list[Any] = [lease_token, before, after, len(cursor_after)]
    for field, value in cursor_after.items():
        args += [field, value]
    for entry in entries:
        args += [entry["s"], entry["l"], entry["t"]]
    answer: Any = _APPEND(
        client, [keys.job_lease(job_id), keys.job(job_id), keys.job_log(job_id)], args
    )
    return int(answer)


def read(
    client: redis.Redis, job_id: str, after: str, count: int, block_ms: int | None
) -> list[tuple[str, dict[str, str]]]:
    """Up to `count` entries after entry id `after` (``$``: only new ones), waiting up to
    `block_ms` for the first."""
    answer: Any = client.xread({keys.job_log(job_id): after}, count=count, block=block_ms)
    return list(answer[0][1]) if answer else []


def has_more(client: redis.Redis, job_id: str, after: str) -> bool:
    """Whether any entry follows entry id `after`."""
    return bool(client.xrange(keys.job_log(job_id), min=f"({after}", count=1))
