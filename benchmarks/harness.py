"""Repeats, summaries and side-by-side tables: what every benchmark shares.

Every table compares its variants in the same run, interleaved (A, B, C, A,
B, C...), so that the noise of a shared machine falls on all of them alike;
a row's ratio is its median over the baseline row's median.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

#: a variant measures once and returns the figure (ms, jobs/s, MB...)
Variant = Callable[[], float]


def timed(action: Callable[[], object]) -> Variant:
    """A variant that runs `action` once and returns its wall time in ms."""

    def measure() -> float:
        started = time.perf_counter()
        action()
        return (time.perf_counter() - started) * 1000

    return measure


def interleaved(
    variants: dict[str, Variant], repeats: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Run every variant `warmup` times unrecorded, then `repeats` rounds, one of each per
    round, so that drift on a noisy machine touches every variant the same."""
    for _ in range(warmup):
        for variant in variants.values():
            variant()
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, variant in variants.items():
            samples[name].append(variant())
    return samples


@dataclass
class Row:
    """One variant of a table: its samples and, optionally, what it is compared with."""

    label: str
    samples: list[float]
    baseline: str | None = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")


@dataclass
class Table:
    """Rows measured side by side; ratios are against the row named by each row's baseline."""

    title: str
    unit: str
    rows: list[Row] = field(default_factory=list)
    higher_is_better: bool = False
    notes: list[str] = field(default_factory=list)

    def add(
        self, label: str, samples: list[float], baseline: str | None = None, note: str = ""
    ) -> Row:
        row = Row(label, samples, baseline, note)
        self.rows.append(row)
        return row

    def row(self, label: str) -> Row:
        return next(r for r in self.rows if r.label == label)

    def ratio(self, label: str, baseline: str | None = None) -> float:
        """`label`'s median over its baseline's (or `baseline`'s) median."""
        row = self.row(label)
        base = baseline or row.baseline
        if base is None:
            return float("nan")
        reference = self.row(base).median
        return row.median / reference if reference else float("nan")

    def cells(self) -> list[list[str]]:
        """The table as text cells: variant, median, min–max, n, ratio, vs, note."""
        out = []
        for row in self.rows:
            low, high = (min(row.samples), max(row.samples)) if row.samples else (0.0, 0.0)
            ratio = fmt_ratio(self.ratio(row.label)) if row.baseline else "—"
            out.append(
                [
                    row.label,
                    fmt(row.median),
                    f"{fmt(low)}–{fmt(high)}",
                    str(len(row.samples)),
                    ratio,
                    row.baseline or "",
                    row.note,
                ]
            )
        return out


HEADERS = ["variant", "median", "min–max", "n", "ratio", "vs", "note"]


def fmt(value: float) -> str:
    """Three significant figures, without a run of zeros for large values."""
    if value != value:  # NaN
        return "n/a"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_ratio(value: float) -> str:
    """Two decimals; two significant figures below 0.1 (a sweep at 0.0064× of the CLI)."""
    return f"{value:.2f}×" if value >= 0.1 or value != value else f"{value:.2g}×"


Verdict = Literal["met", "missed", "info"]


@dataclass
class Target:
    """A target of the issue and how this run did against it."""

    name: str
    measured: str
    verdict: Verdict


@dataclass
class Report:
    """All tables and targets of one run, in the order they were measured."""

    quick: bool
    tables: list[Table] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    def table(self, table: Table) -> Table:
        self.tables.append(table)
        return table

    def target(self, name: str, measured: str, met: bool | None) -> None:
        # Quick mode's figures mean nothing: it only shows that each benchmark completes.
        verdict: Verdict = "info" if met is None or self.quick else ("met" if met else "missed")
        self.targets.append(Target(name, measured, verdict))
