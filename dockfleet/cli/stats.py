"""``dockfleet stats``: a live table of the fleet's containers, like ``docker stats``."""

from __future__ import annotations

import json
import sys
import time

import click
from rich.live import Live
from rich.table import Table

from dockfleet.cli.main import Context, cli
from dockfleet.cli.options import host_option, json_option
from dockfleet.cli.output import console, emit_json, size
from dockfleet.models import ContainerStats

#: how often the live table re-reads the latest samples
REFRESH_SECONDS = 1.0

HEADERS = [
    "CONTAINER ID",
    "NAME",
    "HOST",
    "CPU %",
    "MEM USAGE / LIMIT",
    "MEM %",
    "NET I/O",
    "BLOCK I/O",
    "PIDS",
]


@cli.command()
@host_option("Only this host's containers.")
@click.option(
    "--stream/--no-stream",
    default=None,
    help="Follow live (the default for the table) or print once (the default for --json).",
)
@json_option("JSON: a list, or with --stream a line each.")
@click.argument("refs", nargs=-1)
@click.pass_obj
def stats(
    state: Context, host: str | None, stream: bool | None, as_json: bool, refs: tuple[str, ...]
) -> None:
    """Resource use of containers (every running fleet container without IDs), live."""
    fleet = state.fleet

    def current() -> list[ContainerStats]:
        if refs:
            return [fleet.get_container_stats(ref, host=host) for ref in refs]
        found = fleet.latest_stats(host)
        return sorted(found, key=lambda s: (s.host, s.name))

    if stream is None:
        stream = not as_json
    if not stream:
        samples = current()
        emit_json(samples) if as_json else console().print(render(samples))
        return
    if as_json:
        for sample in fleet.stats_stream(host=host, ids=list(refs) or None):
            click.echo(json.dumps(sample.model_dump(mode="json")))
        return
    period = REFRESH_SECONDS  # reading Redis is cheap; sweeps bring new figures
    if sys.stdout.isatty():
        with Live(render(current()), console=console(), auto_refresh=False) as live:
            while True:
                time.sleep(period)
                live.update(render(current()), refresh=True)
    while True:  # not a terminal: one table per refresh, as a log
        console().print(render(current()))
        click.echo("", nl=True)
        sys.stdout.flush()
        time.sleep(period)


def render(samples: list[ContainerStats]) -> Table:
    grid = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    for header in HEADERS:
        grid.add_column(header, no_wrap=True)
    for s in samples:
        grid.add_row(*row(s))
    return grid


def row(s: ContainerStats) -> list[str]:
    return [
        s.id[:12],
        s.name,
        s.host,
        f"{s.cpu_usage:.2f}%",
        f"{size(s.memory_usage)} / {size(s.memory_limit)}",
        f"{s.memory_percent:.2f}%",
        f"{size(s.network_rx)} / {size(s.network_tx)}",
        f"{size(s.disk_read)} / {size(s.disk_write)}",
        str(s.pids),
    ]
