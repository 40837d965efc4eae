"""``dockfleet artifacts JOB_ID``: a job's stored artifacts fetched into a folder, from any
machine that reaches the fleet's Redis (``dockfleet run`` uses the same fetch when the
job ends)."""

from __future__ import annotations

from pathlib import Path

import click

from dockfleet.cli.main import Context, cli
from dockfleet.cli.options import json_option
from dockfleet.cli.output import emit_json
from dockfleet.cli.progress import byte_bar
from dockfleet.client.job_handle import JobHandle
from dockfleet.models.artifacts import ArtifactsReport

MIB = 1024 * 1024


@cli.command("artifacts")
@click.argument("job_id")
@click.option(
    "--output",
    "-o",
    "target",
    default=".",
    show_default=True,
    metavar="DIR",
    help="Unpack them below DIR, their paths kept.",
)
@json_option("Print what was fetched as JSON.")
@click.pass_obj
def artifacts(state: Context, /, job_id: str, target: str, as_json: bool) -> None:
    """Fetch a job's artifacts (kept DOCKFLEET_ARTIFACT_TTL after it ended)."""
    report = fetch(JobHandle(state.fleet.transport, job_id), Path(target), quiet=as_json)
    if as_json:
        emit_json(report)


def fetch(handle: JobHandle, target: Path, *, quiet: bool = False) -> ArtifactsReport:
    """Download the job's artifacts into `target` with a bar on a terminal; on stderr, one
    warning per path that matched nothing, and a line on what came (unless `quiet`)."""
    with byte_bar(f"artifacts of job {handle.id[:12]}") as progress:
        report = handle.download_artifacts(target, progress)
    warn_missing(report)
    if not quiet:
        click.echo(
            f"dockfleet: {len(report.files)} artifacts of job {handle.id} "
            f"({report.size / MIB:.1f} MiB) in {target}",
            err=True,
        )
    return report


def warn_missing(report: ArtifactsReport) -> None:
    """One warning line per artifact path that matched nothing, and why none were stored."""
    for path in report.missing:
        click.echo(f"dockfleet: warning: artifact {path!r} matched nothing", err=True)
    if report.error:
        click.echo(f"dockfleet: warning: artifacts not stored: {report.error}", err=True)
