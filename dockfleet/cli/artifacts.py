"""``dockfleet artifacts JOB_ID``: a job's stored artifacts fetched into a folder, from any
machine that reaches the fleet's Redis. ``dockfleet run`` uses the same fetch, begun as
the job is sent (`EarlyFetch`), so that it follows the copy out of the job's container."""

from __future__ import annotations

import threading
from collections.abc import Callable
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


class EarlyFetch:
    """A job's artifacts downloaded in a thread from the moment it is sent: the download
    then follows their copy out of the job's container (`JobHandle.download_artifacts`
    with ``wait``), instead of starting once the job has ended."""

    def __init__(self, handle: JobHandle, target: Path) -> None:
        self.handle, self.target = handle, target
        self.done = self.total = 0
        self._report: ArtifactsReport | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="artifacts", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._report = self.handle.download_artifacts(self.target, self._moved, wait=True)
        except BaseException as exc:  # raised in the CLI's thread, by `report`
            self._error = exc

    def _moved(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def report(self, on_progress: Callable[[int, int], None]) -> ArtifactsReport:
        """The artifacts' report once they are all here, moving `on_progress` meanwhile."""
        while self._thread.is_alive():
            on_progress(self.done, self.total)
            self._thread.join(0.1)
        if self._error is not None:
            raise self._error
        assert self._report is not None
        return self._report


def fetch(
    handle: JobHandle, target: Path, *, quiet: bool = False, early: EarlyFetch | None = None
) -> ArtifactsReport:
    """Download the job's artifacts into `target` (or finish the `early` download) with a
    bar on a terminal; on stderr, one warning per path that matched nothing, and a line on
    what came (unless `quiet`)."""
    with byte_bar(f"artifacts of job {handle.id[:12]}") as progress:
        if early is not None:
            report = early.report(progress)
        else:
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
