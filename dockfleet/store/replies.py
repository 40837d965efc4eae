"""Replies of Redis as text, whether the client decodes them (the fleet's do) or not."""

from __future__ import annotations


def text(value: str | bytes | None) -> str:
    """`value` as a str ("" for a missing one)."""
    if isinstance(value, bytes):
        return value.decode()
    return "" if value is None else str(value)
