"""Container commands: create, start, ps, logs, inspect, stop, restart, kill, rm, wait."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from dockfleet.cli.jobs import follow_job
from dockfleet.cli.key_values import parse_filters
from dockfleet.cli.main import Context, cli
from dockfleet.cli.options import (
    EVERY_LIVE_HOST,
    filter_option,
    host_option,
    json_option,
    quiet_option,
)
from dockfleet.cli.output import ago, emit_json, for_each, listing, table
from dockfleet.cli.spec_options import config_from_options, container_options
from dockfleet.client.fleet import Fleet
from dockfleet.models import BatchOutcome, ContainerFilter, ContainerInfo, LogOptions

#: what ``--filter`` matches containers by
CONTAINER_FILTERS = "status=running, label=k[=v], name=part (repeatable)."


def _container_filter(
    filters: tuple[str, ...], *, host: str | None, limit: int | None = None, every: bool = True
) -> ContainerFilter:
    spec = parse_filters(filters, lists={"status": "status", "label": "labels"}, single=["name"])
    if not spec["status"] and not every:
        spec["status"] = ["running"]
    return ContainerFilter.model_validate({**spec, "host": host, "limit": limit})


@cli.command(context_settings={"allow_interspersed_args": False})
@container_options
@host_option()
@json_option()
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
@host_option()
@click.argument("refs", nargs=-1, required=True)
@click.pass_obj
def start(state: Context, host: str | None, refs: tuple[str, ...]) -> None:
    """Start one or more containers."""
    for_each(refs, lambda ref: state.fleet.start_container(ref, host=host))


def _stopping_command(
    name: str,
    summary: str,
    one: Callable[[Fleet, str, int | None, str | None], object],
    batch: Callable[[Fleet, ContainerFilter, int | None], list[BatchOutcome]],
) -> click.Command:
    """``stop`` or ``restart``: the same command but for the fleet calls (`one` container,
    a `batch` on every container --filter matches) and its help."""

    @cli.command(name, help=summary)
    @host_option()
    @click.option("--time", "-t", "timeout", type=int, help="Seconds to wait before killing.")
    @filter_option(CONTAINER_FILTERS)
    @click.argument("refs", nargs=-1)
    @click.pass_obj
    def command(
        state: Context,
        host: str | None,
        timeout: int | None,
        filters: tuple[str, ...],
        refs: tuple[str, ...],
    ) -> None:
        _named_or_matching(
            refs,
            filters,
            host,
            lambda ref: one(state.fleet, ref, timeout, host),
            lambda query: batch(state.fleet, query, timeout),
        )

    return command


stop = _stopping_command(
    "stop",
    "Stop containers by id/name, or every container matching --filter on every host.",
    Fleet.stop_container,
    Fleet.stop_containers,
)
restart = _stopping_command(
    "restart",
    "Restart containers by id/name, or every container matching --filter.",
    Fleet.restart_container,
    Fleet.restart_containers,
)


@cli.command()
@host_option()
@click.option("--signal", "-s", default="SIGKILL", show_default=True, help="Signal to send.")
@click.argument("refs", nargs=-1, required=True)
@click.pass_obj
def kill(state: Context, host: str | None, signal: str, refs: tuple[str, ...]) -> None:
    """Send a signal to one or more running containers."""
    for_each(refs, lambda ref: state.fleet.kill_container(ref, signal, host=host))


@cli.command()
@host_option()
@click.option("--force", "-f", is_flag=True, help="Kill a running container first.")
@filter_option("Remove matches.", short=False)
@click.argument("refs", nargs=-1)
@click.pass_obj
def rm(
    state: Context, host: str | None, force: bool, filters: tuple[str, ...], refs: tuple[str, ...]
) -> None:
    """Remove containers by id/name, or every container matching --filter."""
    _named_or_matching(
        refs,
        filters,
        host,
        lambda ref: state.fleet.remove_container(ref, force=force, host=host),
        lambda query: state.fleet.remove_containers(query),
    )


@cli.command()
@host_option()
@click.option("--timeout", type=float, help="Give up after this many seconds.")
@click.argument("ref")
@click.pass_obj
def wait(state: Context, host: str | None, timeout: float | None, ref: str) -> None:
    """Wait for a container to stop and print its exit code."""
    click.echo(state.fleet.wait_container(ref, timeout, host=host).exit_code)


@cli.command()
@host_option()
@click.argument("refs", nargs=-1, required=True)
@click.pass_obj
def inspect(state: Context, host: str | None, refs: tuple[str, ...]) -> None:
    """Show containers as JSON (secret values masked)."""
    emit_json([state.fleet.inspect_container(ref, host=host) for ref in refs])


@cli.command()
@click.option("--all", "-a", "every", is_flag=True, help="Show all containers, not only running.")
@quiet_option()
@click.option("--last", "-n", "limit", type=int, help="Show the N most recent containers.")
@click.option("--unmanaged", is_flag=True, help="Include containers the fleet did not create.")
@click.option("--fresh", is_flag=True, help="Ask every host now, not the fleet's state cache.")
@host_option(EVERY_LIVE_HOST)
@filter_option(CONTAINER_FILTERS)
@json_option()
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
    query = _container_filter(filters, host=host, limit=limit, every=every or bool(limit))
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
@host_option()
@click.option("--follow", "-f", is_flag=True, help="Follow the output until the container exits.")
@click.option("--tail", "-n", type=int, help="Only the last N lines.")
@click.option("--timestamps", "-t", is_flag=True, help="Show timestamps.")
@click.option("--stdout/--no-stdout", default=True, help="Include stdout.")
@click.option("--stderr/--no-stderr", default=True, help="Include stderr.")
@json_option()
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


def _named_or_matching(
    refs: tuple[str, ...],
    filters: tuple[str, ...],
    host: str | None,
    each: Callable[[str], object],
    matching: Callable[[ContainerFilter], list[BatchOutcome]],
) -> None:
    """`each` container named, or without names a batch on every container --filter matches."""
    if filters and not refs:
        _show_batch(matching(_container_filter(filters, host=host)))
        return
    if not refs:
        raise click.UsageError("give at least one container id or name, or --filter")
    for_each(refs, each)


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
