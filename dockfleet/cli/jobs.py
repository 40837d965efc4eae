"""``dockfleet run`` and ``dockfleet cancel``: CI jobs from a pipeline step.

``run`` streams the job's log live (stdout to stdout, stderr to stderr) and
exits with the job's exit code, so a pipeline step can be ``dockfleet run ...``.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import click

from dockfleet.cli.artifacts import EarlyFetch, fetch, warn_missing
from dockfleet.cli.main import Context, cli
from dockfleet.cli.options import host_option, json_option
from dockfleet.cli.output import emit_json
from dockfleet.cli.progress import spinner, wait_with_spinner
from dockfleet.cli.run_spec import job_spec
from dockfleet.cli.spec_options import container_options
from dockfleet.client.job_handle import JobHandle
from dockfleet.client.jobs import check_job
from dockfleet.errors import FleetError, HostUnavailable
from dockfleet.models import JobResult, JobSpec, LogLine
from dockfleet.store import job_records

#: exit codes for endings that have no container exit code of their own
MIB = 1024 * 1024
EXIT_CODES = {"timed_out": 124, "canceled": 130, "oom_killed": 137, "error": 125}
RUN_EPILOG = """\b
Exit status: the job's own exit code; 124 when it timed out, 130 when it was
canceled (Ctrl-C or SIGTERM cancels an attached run), 137 when OOM-killed; 125 when
the fleet failed before or around the job (one line says why): a usage error,
Redis down, hung or refusing the password, a policy refusal, an invalid spec or
job file, no live host, an image that cannot be pulled, a service never ready, the
artifacts of a job that passed not fetched."""


@cli.command(context_settings={"allow_interspersed_args": False}, epilog=RUN_EPILOG)
@click.option(
    "--file",
    "-f",
    "job_file",
    metavar="FILE",
    help="A job file (YAML or JSON, docs/job-files.md); the flags given override it.",
)
@container_options
@host_option("Run on this Docker host (default: any live host).")
@click.option("--timeout", default="1h", show_default=True, help="Stop the job after (1h, 90s).")
@click.option(
    "--pull",
    type=click.Choice(["always", "if-not-present", "never"]),
    default="if-not-present",
    show_default=True,
)
@click.option(
    "--service", "services", multiple=True, metavar="IMAGE[:TAG][=ALIAS]", help="A sidecar."
)
@click.option(
    "--workspace",
    metavar="DIR",
    help="Send DIR into the job's container, at /workspace (its working directory); "
    "DIR/.dockerignore excludes files.",
)
@click.option(
    "--cache",
    "caches",
    multiple=True,
    metavar="KEY:PATH",
    help="Mount the host's cache KEY at PATH (made on first use, kept between jobs; "
    "repeatable). The key is yours to scope, e.g. myproj-npm.",
)
@click.option(
    "--artifact",
    "artifacts",
    multiple=True,
    metavar="PATH",
    help="Copy PATH out of the job's container when it ends: relative to its working "
    "directory, a glob allowed (*, **); repeatable.",
)
@click.option(
    "--artifacts-when",
    type=click.Choice(["on_success", "on_failure", "always"]),
    default="on_success",
    show_default=True,
    help="Which jobs keep their artifacts, by their status.",
)
@click.option(
    "--artifacts-dir",
    default=".",
    show_default=True,
    metavar="DIR",
    help="Where an attached run puts the artifacts, their paths kept.",
)
@click.option(
    "--detach", "-d", is_flag=True, help="Print the job id and return (once a workspace is in)."
)
@click.option("--keep", is_flag=True, help="Keep the containers of a failed job for debugging.")
@click.option("--log-limit", default="4m", show_default=True, help="Cap on the stored log.")
@click.option("--no-job-network", is_flag=True, help="No private network for the job.")
@json_option("Print the result as JSON at the end.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the job as it would be sent (JSON, secrets as ***) and exit; nothing is sent.",
)
@click.argument("image", required=False)
@click.argument("command", nargs=-1)
@click.pass_context
def run(
    ctx: click.Context,
    /,
    detach: bool,
    as_json: bool,
    dry_run: bool,
    artifacts_dir: str,
    **_: Any,
) -> None:
    """Run a CI job: IMAGE[:TAG] [-- CMD ...] or -f job.yml, with a live log and its exit code."""
    state: Context = ctx.obj
    spec = job_spec(ctx)
    if dry_run:
        check_job(spec, state.settings.policy)  # what run_job would refuse, refused here too
        click.echo(json.dumps(spec.model_dump(mode="json"), indent=2))
        return
    # A CI runner cancels a job by SIGTERM (gitlab-runner, GitHub Actions): cancel the fleet's
    # job as Ctrl-C does, or it would run on until its own timeout. (During a workspace
    # upload, `run_job` cancels the job itself.)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    handle: JobHandle | None = None
    try:
        handle = _submit(state, spec)
        if detach:
            click.echo(handle.id)
            return
        early = EarlyFetch(handle, Path(artifacts_dir)) if spec.artifacts else None
        lines = handle.logs(follow=True)
        # Until the first line: a spinner saying what the job waits for (terminal only).
        first = wait_with_spinner(lambda: next(lines, None), lambda: _waiting_for(handle))
        if first is not None:
            _print(first, as_json)
            for line in lines:
                _print(line, as_json)
        result = handle.wait()
        fetched = _artifacts(handle, result, Path(artifacts_dir), as_json, early)
    except KeyboardInterrupt:
        if handle is None:
            raise  # during the upload: the job is canceled already
        click.echo(f"dockfleet: canceling job {handle.id}...", err=True)
        handle.cancel()
        result = handle.wait(timeout=spec.stop_grace + 30)
        fetched = True
    finally:
        signal.signal(signal.SIGTERM, previous)
    _finish(result, as_json, fetched)


def _submit(state: Context, spec: JobSpec) -> JobHandle:
    """Send the job; with a workspace, a spinner says how much of it is in meanwhile."""
    if spec.host:
        _check_target_host(state, spec.host)
    if spec.workspace is None:
        return state.fleet.run_job(spec)
    source = spec.workspace.source
    with spinner(f"sending the workspace {source}") as update:

        def progress(done: int, total: int) -> None:
            update(f"workspace {source}: {done / MIB:.0f} of {total / MIB:.0f} MiB unpacked")

        return state.fleet.run_job(spec, on_upload=progress)


def _check_target_host(state: Context, name: str) -> None:
    """A host no worker has served for a day is a typo, not a queue: refused, with the
    names the fleet knows, rather than a step that waits forever. A known host that is
    down takes the job when it is back: said once, as the job then waits."""
    known = {host.name: host for host in state.fleet.hosts()}
    if name not in known:
        names = ", ".join(sorted(known)) or "none"
        raise HostUnavailable(name, f"no worker has served it in a day (known hosts: {names})")
    if not known[name].up:
        seen = known[name].last_seen.strftime("%Y-%m-%d %H:%M:%S UTC")
        click.echo(
            f"dockfleet: host {name} is down (last seen {seen}); the job waits in its queue "
            "until a worker of that host takes it",
            err=True,
        )


def _artifacts(
    handle: JobHandle, result: JobResult, target: Path, as_json: bool, early: EarlyFetch | None
) -> bool:
    """The job's artifacts, if it stored any, downloaded (the `early` download finished);
    False when that failed (said why)."""
    report = result.artifacts
    if report is None:
        return True
    if not report.files:
        warn_missing(report)
        return True
    try:
        fetch(handle, target, quiet=as_json, early=early)
    except FleetError as exc:
        click.echo(f"dockfleet: artifacts of job {handle.id} not fetched: {exc}", err=True)
        return False
    return True


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@cli.command()
@click.argument("job_ids", nargs=-1, required=True)
@click.pass_obj
def cancel(state: Context, job_ids: tuple[str, ...]) -> None:
    """Cancel jobs: a queued job never starts; a running one is stopped and cleaned up."""
    for job_id in job_ids:
        seen = state.fleet.cancel_job(job_id)
        click.echo(f"{job_id}: {'already finished' if seen == 'finished' else 'canceled'}")


def follow_job(handle: JobHandle, follow: bool, as_json: bool) -> None:
    """Print a job's log (used by ``dockfleet logs JOB``)."""
    for line in handle.logs(follow=follow):
        _print(line, as_json)


def _waiting_for(handle: JobHandle) -> str:
    fields = job_records.read(handle.transport.redis, handle.id)
    state, host = fields.get("state", "queued"), fields.get("host")
    if state == "queued":
        return f"job {handle.id[:12]}: waiting for a Docker host to take it"
    if state == "running" and not fields.get("started_at"):
        return f"job {handle.id[:12]} on {host}: pulling the image, starting services"
    return f"job {handle.id[:12]} on {host}: {state}"


def _print(line: LogLine, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(line.model_dump(mode="json")), err=True)
        return
    stream = sys.stderr if line.stream == "stderr" else sys.stdout
    stream.write(line.line + "\n")
    stream.flush()


def _finish(result: JobResult, as_json: bool, fetched: bool = True) -> None:
    if as_json:
        emit_json(result)
    elif result.status not in ("succeeded", "failed"):
        detail = f": {result.error}" if result.error else ""
        click.echo(f"dockfleet: job {result.job_id} {result.status}{detail}", err=True)
    if result.log_truncated and not as_json:
        click.echo(f"dockfleet: log truncated at {result.log_bytes} bytes", err=True)
    code = EXIT_CODES.get(result.status, result.exit_code or 0)
    if not fetched and code == 0:
        code = EXIT_CODES["error"]  # a step whose artifacts did not come must not pass
    sys.exit(code if result.status != "failed" else (result.exit_code or 1))
