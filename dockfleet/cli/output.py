"""How the CLI shows things: tables and plain lines for people, ``--json`` for machines."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar, cast

import click
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from dockfleet.errors import FleetError

T = TypeVar("T")


def console() -> Console:
    # Colour only on a terminal; a pipe gets plain text at a fixed width.
    return Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 200)


def emit_json(data: BaseModel | Sequence[BaseModel] | dict[str, Any] | list[Any]) -> None:
    if isinstance(data, BaseModel):
        payload: Any = data.model_dump(mode="json")
    elif isinstance(data, list | tuple) and all(isinstance(d, BaseModel) for d in data):
        payload = [d.model_dump(mode="json") for d in data]
    else:
        payload = data
    click.echo(json.dumps(payload, indent=2, sort_keys=False))


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    grid = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    for header in headers:
        grid.add_column(header, overflow="fold")
    for row in rows:
        grid.add_row(*row)
    console().print(grid)


class Listed(Protocol):
    @property
    def short_id(self) -> str: ...


def listing(
    found: Sequence[BaseModel],
    *,
    as_json: bool,
    quiet: bool,
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
) -> None:
    """A listing the docker way: a table, ids only with -q, JSON with --json."""
    if as_json:
        emit_json(found)
    elif quiet:
        for item in found:
            click.echo(cast(Listed, item).short_id)
    else:
        table(headers, rows)


def for_each(
    refs: Sequence[str],
    action: Callable[[str], T],
    report: Callable[[str, T], None] | None = None,
) -> None:
    """Act on every ref like docker does: say what worked (the ref, or `report`), one error
    line for each that did not, and a non-zero exit if any did not."""
    failed = False
    for ref in refs:
        try:
            outcome = action(ref)
        except FleetError as exc:
            click.echo(f"dockfleet: error: {exc}", err=True)
            failed = True
            continue
        if report is None:
            click.echo(ref)
        else:
            report(ref, outcome)
    if failed:
        sys.exit(1)


def ago(when: datetime | None) -> str:
    """ "5 seconds ago", like docker's CREATED column."""
    if when is None:
        return ""
    seconds = max(0, int((datetime.now(UTC) - when).total_seconds()))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def size(value: int) -> str:
    """Bytes as docker shows them (binary units)."""
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if amount < 1024 or unit == "TiB":
            return f"{amount:.0f}{unit}" if unit == "B" else f"{amount:.2f}{unit}"
        amount /= 1024
    return f"{value}B"


def fail(message: str, code: int = 1) -> None:
    """One clear line on stderr and a non-zero exit: never a traceback for a user mistake."""
    click.echo(f"dockfleet: {message}", err=True)
    sys.exit(code)
