"""``dockfleet cache ls|rm``: the job caches (``run --cache KEY:PATH``) each host keeps."""

from __future__ import annotations

import click

from dockfleet.cli.main import Context, cli
from dockfleet.cli.options import EVERY_LIVE_HOST, host_option, json_option
from dockfleet.cli.output import ago, emit_json, size, table


@cli.group("cache")
def cache() -> None:
    """Job caches: one volume per key and host, shared by the jobs that name the key."""


@cache.command("ls")
@host_option(EVERY_LIVE_HOST)
@json_option()
@click.pass_obj
def ls(state: Context, host: str | None, as_json: bool) -> None:
    """List the caches of every host: size, last use, the running containers using them."""
    found = state.fleet.list_caches(host)
    if as_json:
        emit_json(found)
        return
    table(
        ["KEY", "HOST", "SIZE", "LAST USED", "IN USE"],
        (
            [
                c.key,
                c.host,
                size(c.size) if c.size is not None else "-",
                ago(c.last_used) or "-",
                ", ".join(c.in_use) or "-",
            ]
            for c in found
        ),
    )


@cache.command("rm")
@host_option(EVERY_LIVE_HOST)
@click.argument("key")
@click.pass_obj
def rm(state: Context, host: str | None, key: str) -> None:
    """Remove cache KEY (refused while a running container mounts it)."""
    for result in state.fleet.remove_cache(key, host):
        click.echo(f"{result.host}: {key} {'removed' if result.removed else 'not there'}")
