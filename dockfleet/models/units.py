"""Parsers for the human forms users type: sizes ("512m") and durations ("1m30s")."""

from __future__ import annotations

import re

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)
_SIZE_FACTORS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_DURATION_FACTORS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_size(value: object) -> object:
    """Turn "512m", "1g", "1.5GiB" into bytes (docker's binary units); pass ints through."""
    if isinstance(value, str):
        match = _SIZE.match(value)
        if not match:
            raise ValueError(f"invalid size {value!r}: use bytes or a number with k, m, g or t")
        number, unit, _ = match.groups()
        return int(float(number) * _SIZE_FACTORS[unit.lower()])
    return value


def parse_duration(value: object) -> object:
    """Turn "30s", "1m30s", "500ms" into seconds; pass numbers through."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        parts = _DURATION.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError(f"invalid duration {value!r}: use seconds or forms like 1m30s, 500ms")
        return sum(float(n) * _DURATION_FACTORS[u] for n, u in parts)
    return value
