"""Container commands: create, start, ps, logs, inspect, stop, restart, kill, rm, wait."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from dockfleet.cli.jobs import follow_job
from dockfleet.cli.main import Context, cli
from dockfleet.cli.output import ago, emit_json, for_each, listing, table
from dockfleet.cli.spec_options import config_from_options, container_options
from dockfleet.errors import InvalidSpec
from dockfleet.models import BatchOutcome, ContainerFilter, ContainerInfo, LogOptions

F = Callable[..., Any]


def host_option(func: F) -> F:
    return click.option("--host", help="The Docker host (default: found from the id).")(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


def filter_option(func: F) -> F:
    return click.option(
        "--filter",
        "-f",
        "filters",
        multiple=True,
        metavar="KEY=VALUE",
        help="status=running, label=k[=v], name=part (repeatable).",
    )(func)


def parse_filters(
    filters: tuple[str, ...], *, host: str | None, limit: int | None = None, every: bool = True
) -> ContainerFilter:
    status: list[str] = []
    labels: list[str] = []
    name = None
    for item in filters:
        key, sep, value = item.partition("=")
        if not sep or key not in ("status", "label", "name"):
            raise InvalidSpec(f"--filter: {item!r} is not status=..., label=... or name=...")
        if key == "status":
            status.append(value)
        elif key == "label":
            labels.append(value)
        else:
            name = value
    if not status and not every:
        status = ["running"]
    spec = {"status": status, "labels": labels, "name": name, "host": host, "limit": limit}
    return ContainerFilter.model_validate(spec)


@cli.command(context_settings={"allow_interspersed_args": False})
@container_options
@host_option
@json_option
@click.argument("image")
@click.argument("command", nargs=-1)
@click.pass_obj
def create(
    state: Context,
    /,
    image: str,
    command: tuple[str, ...],
    host: str | None,
    as_json: bool,
    **opts: Any,
) -> None:
    """Create a container (not started) on a fleet host: IMAGE[:TAG] [-- CMD ...]."""
    config = config_from_options(image, command, **opts)
    info = state.fleet.create_container(config, host=host)
    if as_json:
        emit_json(info)
    else:
        click.echo(info.id)


@cli.command()
@host_option
@click.argument("refs", nargs=-1, required=True)
@click.pass_obj
def start(state: Context, host: str | None, refs: tuple[str, ...]) -> None:
    """Start one or more containers."""
    for_each(refs, lambda ref: state.fleet.start_container(ref, host=host))


@cli.command()
@host_option
@click.option("--time", "-t", "timeout", type=int, help="Seconds to wait before killing.")
@filter_option
@click.argument("refs", nargs=-1)
@click.pass_obj
def stop(
    state: Context,
    host: str | None,
    timeout: int | None,
    filters: tuple[str, ...],
    refs: tuple[str, ...],
) -> None:
    """Stop containers by id/name, or every container matching --filter on every host."""
    if filters and not refs:
        query = parse_filters(filters, host=host)
        _show_batch(state.fleet.stop_containers(query, timeout))
        return
    for_each(_need(refs), lambda ref: state.fleet.stop_container(ref, timeout, host=host))


@cli.command()
@host_option
@click.option("--time", "-t", "timeout", type=int, help="Seconds to wait before killing.")
@filter_option
@click.argument("refs", nargs=-1)
@click.pass_obj
def restart(
    state: Context,
    host: str | None,
    timeout: int | None,
    filters: tuple[str, ...],
    refs: tuple[str, ...],
) -> None:
    """Restart containers by id/name, or every container matching --filter."""
    if filters and not refs:
        _show_batch(state.fleet.restart_containers(parse_filters(filters, host=host), timeout))
        return
    for_each(_need(refs), lambda ref: state.fleet.restart_container(ref, timeout, host=host))


@cli.command()
@host_option
@click.option("--signal", "-s", default="SIGKILL", show_default=True, help="Signal to send.")
@click.argument("refs", nargs=-1, required=True)
@click.pass_obj
def kill(state: Context, host: str | None, signal: str, refs: tuple[str, ...]) -> None:
    """Send a signal to one or more running containers."""
    for_each(refs, lambda ref: state.fleet.kill_container(ref, signal, host=host))


@cli.command()
@host_option
@click.option("--force", "-f", is_flag=True, help="Kill a running container first.")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE", help="Remove matches.")
@click.argument("refs", nargs=-1)
@click.pass_obj
def rm(
    state: Context, host: str | None, force: bool, filters: tuple[str, ...], refs: tuple[str, ...]
) -> None:
    """Remove containers by id/name, or every container matching --filter."""
    if filters and not refs:
        _show_batch(state.fleet.remove_containers(parse_filters(filters, host=host)))
        return
    for_each(_need(refs), lambda ref: state.fleet.remove_container(ref, force=force, host=host))


@cli.command()
@host_option
@click.option("--timeout", type=float, help="Give up after this many seconds.")
@click.argument("ref")
@click.pass_obj
def wait(state: Context, host: str | None, timeout: float | None, ref: str) -> None:
    """Wait for a container to stop and print its exit code."""
    click.echo(state.fleet.wait_container(ref, timeout, host=host).exit_code)


@cli.command()
@host_option
@click.argument("refs", nargs=-1, required=True)
@click.pass_obj
def inspect(state: Context, host: str | None, refs: tuple[str, ...]) -> None:
    """Show containers as JSON (secret values masked)."""
    emit_json([state.fleet.inspect_container(ref, host=host) for ref in refs])


@cli.command()
@click.option("--all", "-a", "every", is_flag=True, help="Show all containers, not only running.")
@click.option("--quiet", "-q", is_flag=True, help="Only print ids.")
@click.option("--last", "-n", "limit", type=int, help="Show the N most recent containers.")
@click.option("--unmanaged", is_flag=True, help="Include containers the fleet did not create.")
@click.option("--fresh", is_flag=True, help="Ask every host now, not the fleet's state cache.")
@click.option("--host", help="Only this host (default: every live host).")
@filter_option
@json_option
@click.pass_obj
def ps(
    state: Context,
    every: bool,
    quiet: bool,
    limit: int | None,
    unmanaged: bool,
    fresh: bool,
    host: str | None,
    filters: tuple[str, ...],
    as_json: bool,
) -> None:
    """List the fleet's containers on every host."""
    query = parse_filters(filters, host=host, limit=limit, every=every or bool(limit))
    query = query.model_copy(update={"include_unmanaged": unmanaged})
    found = state.fleet.list_containers(query, fresh=fresh)
    headers = ["CONTAINER ID", "HOST", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    rows = (_ps_row(i) for i in found)
    listing(found, as_json=as_json, quiet=quiet, headers=headers, rows=rows)


def _ps_row(info: ContainerInfo) -> list[str]:
    ports = ", ".join(
        f"{p.host_ip}:{p.host_port}->{p.container_port}" if p.host_port else p.container_port
        for p in info.ports
    )
    command = " ".join(info.command)
    status = info.status if info.exit_code is None else f"{info.status} ({info.exit_code})"
    return [
        info.short_id,
        info.host,
        info.image,
        command[:30],
        ago(info.created),
        status,
        ports,
        info.name,
    ]


@cli.command()
@host_option
@click.option("--follow", "-f", is_flag=True, help="Follow the output until the container exits.")
@click.option("--tail", "-n", type=int, help="Only the last N lines.")
@click.option("--timestamps", "-t", is_flag=True, help="Show timestamps.")
@click.option("--stdout/--no-stdout", default=True, help="Include stdout.")
@click.option("--stderr/--no-stderr", default=True, help="Include stderr.")
@json_option
@click.argument("ref")
@click.pass_obj
def logs(
    state: Context,
    host: str | None,
    follow: bool,
    tail: int | None,
    timestamps: bool,
    stdout: bool,
    stderr: bool,
    as_json: bool,
    ref: str,
) -> None:
    """Print a job's or a container's output: stdout to stdout, stderr to stderr."""
    if state.fleet.is_job(ref):
        follow_job(state.fleet.job(ref), follow, as_json)
        return
    options = LogOptions(
        follow=follow, tail=tail, timestamps=timestamps, show_stdout=stdout, show_stderr=stderr
    )
    lines = state.fleet.get_container_logs(ref, options, host=host)
    try:
        for line in lines:
            if as_json:
                click.echo(json.dumps(line.model_dump(mode="json")))
                continue
            prefix = f"{line.timestamp.isoformat()} " if timestamps and line.timestamp else ""
            stream = sys.stderr if line.stream == "stderr" else sys.stdout
            stream.write(f"{prefix}{line.line}\n")
            stream.flush()
    finally:
        lines.close()


def _need(refs: tuple[str, ...]) -> tuple[str, ...]:
    if not refs:
        raise click.UsageError("give at least one container id or name, or --filter")
    return refs


def _show_batch(outcomes: list[BatchOutcome]) -> None:
    table(
        ["CONTAINER ID", "NAME", "HOST", "ACTION", "RESULT"],
        [
            [o.id[:12], o.name, o.host, o.action, "ok" if o.ok else f"failed: {o.error}"]
            for o in outcomes
        ],
    )
    if not all(o.ok for o in outcomes):
        sys.exit(1)
