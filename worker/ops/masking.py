"""Masks secret values in log lines, a secret of several lines included.

A log reaches Redis line by line, so a multi-line secret (a key file, a JSON
credential) never stands whole in one line: each of its lines is masked on its
own. A line of such a secret shorter than `MIN_FRAGMENT` visible characters
(``}``, ``1``, a blank line) is left alone: masking it would mask it all over
the log, and it gives little of the secret away; a secret whose every line is
that short is not masked across lines. A one-line secret (or one line and a
newline, as a secret file often is) is masked whatever its length, a blank one
aside. The reader joins a line the engine cut at 16 KiB before it is masked
(`worker.engine.logs`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dockfleet import labels as fleet_labels
from dockfleet.models.fields import MASK

#: the shortest line of a multi-line secret masked on its own (without blanks around it)
MIN_FRAGMENT = 6
#: passes over a line before it is masked whole (only a secret containing ``*`` needs two)
MAX_PASSES = 3


def needles(secret: str) -> list[str]:
    """What to look for in a log line to mask `secret`."""
    if "\n" not in secret:
        return [secret] if secret.strip() else []
    lines = [part.strip() for part in secret.split("\n") if part.strip()]
    if len(lines) == 1:
        return lines  # one line and newlines around it: that line, whatever its length
    return [part for part in lines if len(part) >= MIN_FRAGMENT]


class SecretMask:
    """Replaces every secret value, and every long enough line of one, by ``***``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        found = {needle for secret in secrets if secret for needle in needles(secret)}
        self.needles = sorted(found, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self.needles)

    def __call__(self, line: str) -> str:
        for _ in range(MAX_PASSES):
            spans = self._spans(line)
            if not spans:
                return line
            line = _replace(line, spans)
        # A mask next to a secret's "*" can make it whole again: give up on this line.
        return MASK if self._spans(line) else line

    def _spans(self, line: str) -> list[tuple[int, int]]:
        """Where the needles stand in `line` (overlaps included), merged, in order."""
        spans = []
        for needle in self.needles:
            start = line.find(needle)
            while start >= 0:
                spans.append((start, start + len(needle)))
                start = line.find(needle, start + 1)
        spans.sort()
        merged: list[tuple[int, int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged


def _replace(line: str, spans: list[tuple[int, int]]) -> str:
    parts, at = [], 0
    for start, end in spans:
        parts += [line[at:start], MASK]
        at = end
    parts.append(line[at:])
    return "".join(parts)


def secret_values(doc: dict[str, Any]) -> list[str]:
    """Values of the env variables the fleet marked secret on this container (its inspect
    document: ``Config.Env`` and the ``dockfleet.secret-env`` label)."""
    config = doc.get("Config") or {}
    names = fleet_labels.secret_env_keys(config.get("Labels"))
    values = []
    for item in config.get("Env") or []:
        key, _, value = item.partition("=")
        if key in names and value:
            values.append(value)
    return values
