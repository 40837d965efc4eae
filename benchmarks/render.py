"""Shows a `Report`: rich tables on the terminal, Markdown for docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table as RichTable

from benchmarks.harness import HEADERS, Report, Table

#: wide enough for the tables when the output is a pipe (make, CI logs)
console = Console(width=None if sys.stdout.isatty() else 150)


def show(table: Table) -> None:
    """Print one table as soon as it is measured."""
    view = RichTable(title=f"{table.title} ({table.unit})", title_justify="left")
    for header in HEADERS:
        view.add_column(header, justify="right" if header in ("median", "n", "ratio") else "left")
    for cells in table.cells():
        view.add_row(*cells)
    console.print(view)
    for note in table.notes:
        console.print(f"  [dim]{note}[/dim]")


def show_targets(report: Report) -> None:
    view = RichTable(title="Targets", title_justify="left")
    for header in ("target", "measured", "verdict"):
        view.add_column(header)
    colours = {"met": "green", "missed": "red", "info": "yellow"}
    for t in report.targets:
        view.add_row(t.name, t.measured, f"[{colours[t.verdict]}]{t.verdict}[/]")
    console.print(view)


def machine() -> str:
    """One line on where the run happened (the figures mean little without it)."""
    cpus = os.cpu_count() or 0
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    engine = _engine_version()
    return (
        f"{platform.node()}: {platform.system()} {platform.release()}, {cpus} CPUs, "
        f"{memory_gib:.0f} GiB, Python {platform.python_version()}, engine {engine}, "
        f"load average at the end {load}"
    )


def _engine_version() -> str:
    url = os.environ.get("DOCKFLEET_BENCH_DOCKER_HOST", "")
    args = ["docker", *(["-H", url] if url else []), "version", "-f", "{{.Server.Version}}"]
    out = subprocess.run(args, capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def markdown(report: Report, command: str) -> str:
    """The whole report as Markdown: machine, command, every table, the targets."""
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        + (" (quick mode: figures are not meaningful)" if report.quick else ""),
        "",
        f"Machine: {machine()}",
        "",
        f"Command: `{command}`",
        "",
    ]
    for table in report.tables:
        lines += [f"### {table.title} ({table.unit})", ""]
        lines.append("| " + " | ".join(HEADERS) + " |")
        lines.append("|" + "---|" * len(HEADERS))
        lines += [
            "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
            for cells in table.cells()
        ]
        lines.append("")
        lines += [f"- {note}" for note in table.notes]
        if table.notes:
            lines.append("")
    lines += ["### Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {t.name} | {t.measured} | {t.verdict} |" for t in report.targets]
    return "\n".join(lines) + "\n"
