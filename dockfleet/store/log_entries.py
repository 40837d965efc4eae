"""The entry format of every log stream in Redis: job logs and the streams of tasks.

A line is an entry with fields ``s`` (stdout or stderr), ``l`` (the text) and
``t`` (its engine timestamp, ISO 8601, or empty); the last entry of a stream
has the one field ``end`` (a JSON summary). Writers and readers both build and
read entries here, so the field names have one spelling.
"""

from __future__ import annotations

from datetime import datetime

from dockfleet.models import LogLine

END_FIELD = "end"


def line_entry(stream: str, text: str, stamp: datetime | None) -> dict[str, str]:
    return {"s": stream, "l": text, "t": stamp.isoformat() if stamp else ""}


def end_entry(summary_json: str) -> dict[str, str]:
    return {END_FIELD: summary_json}


def is_end(fields: dict[str, str]) -> bool:
    return END_FIELD in fields


def line_of(fields: dict[str, str]) -> LogLine:
    """A `LogLine` from a line entry."""
    stamp = fields.get("t")
    return LogLine(
        stream=fields["s"],
        line=fields["l"],
        timestamp=datetime.fromisoformat(stamp) if stamp else None,
    )
