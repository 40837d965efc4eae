"""``dockfleet cleanup`` and ``dockfleet exporter``: upkeep of the fleet on demand."""

from __future__ import annotations

import click

from dockfleet.cli.main import Context, cli
from dockfleet.cli.options import EVERY_LIVE_HOST, host_option, json_option
from dockfleet.cli.output import emit_json, size, table
from dockfleet.models import CleanupReport


@cli.command()
@host_option(EVERY_LIVE_HOST)
@click.option("--dry-run", is_flag=True, help="Show what would be removed; remove nothing.")
@json_option()
@click.pass_obj
def cleanup(state: Context, host: str | None, dry_run: bool, as_json: bool) -> None:
    """Remove stopped fleet containers, unused fleet images and empty fleet networks.

    Only objects the fleet made (label dockfleet.managed=true) are ever touched,
    within the ages, watermarks and pins of DOCKFLEET_CLEANUP__* settings.
    """
    reports = state.fleet.cleanup(host=host, dry_run=dry_run)
    if as_json:
        emit_json(reports)
        return
    verb = "WOULD REMOVE" if dry_run else "REMOVED"
    table(
        ["HOST", "KIND", "ID", "NAME", "SIZE", "WHY"],
        [
            [
                r.host,
                item.kind,
                item.id.removeprefix("sha256:")[:12],
                item.name,
                _size(item.size),
                item.reason,
            ]
            for r in reports
            for item in r.removed
        ],
    )
    for r in reports:
        click.echo(_summary(r, verb))


def _summary(report: CleanupReport, verb: str) -> str:
    counts = ", ".join(
        f"{len(report.of_kind(k))} {k}s" for k in ("container", "network", "image", "cache")
    )
    line = f"{report.host}: {verb} {counts}; {size(report.bytes_reclaimed)} reclaimed"
    if report.usage_percent is not None:
        line += f" ({report.usage_basis} use {report.usage_percent:.1f}% before)"
    for error in report.errors:
        line += f"\n{report.host}: kept {error}"
    return line


def _size(value: int) -> str:
    return size(value) if value else "-"


@cli.command()
@click.option("--port", type=int, default=9808, show_default=True, help="Port to serve on.")
@click.option(
    "--address",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind (the metrics have no auth: 0.0.0.0 only behind a firewall or in a "
    "container whose port is published on purpose).",
)
@click.pass_obj
def exporter(state: Context, port: int, address: str) -> None:
    """Serve Prometheus metrics of the fleet on /metrics (read from Redis at each scrape)."""
    from dockfleet import logconfig
    from dockfleet.exporter import serve

    logconfig.configure(state.settings.log_format)
    click.echo(f"dockfleet exporter: serving http://{address}:{port}/metrics", err=True)
    serve(state.settings, port, address)
