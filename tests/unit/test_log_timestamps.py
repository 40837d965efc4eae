"""worker.engine.logs._split_timestamp: the engine's per-line timestamp prefix."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from worker.engine.logs import _split_timestamp


def test_nanosecond_timestamp_is_split_from_the_line() -> None:
    stamp, rest = _split_timestamp(b"2024-05-01T12:34:56.123456789Z hello world\n")
    assert stamp == datetime(2024, 5, 1, 12, 34, 56, 123456, tzinfo=UTC)
    assert rest == b"hello world\n"


def test_short_fraction_is_padded_to_microseconds() -> None:
    stamp, rest = _split_timestamp(b"2024-05-01T12:34:56.5Z x")
    assert stamp == datetime(2024, 5, 1, 12, 34, 56, 500000, tzinfo=UTC)
    assert rest == b"x"


@pytest.mark.parametrize(
    "chunk",
    [
        b"hello world\n",
        b"no-space-at-all",
        b"2024-05-01 not a time",
        b"abcd-efghijklmnopqrstu rest",
    ],
)
def test_chunk_without_timestamp_is_left_whole(chunk: bytes) -> None:
    assert _split_timestamp(chunk) == (None, chunk)
