"""``dockfleet hosts`` and ``dockfleet info``: the fleet's Docker hosts."""

from __future__ import annotations

import click

from dockfleet.cli.main import Context, cli
from dockfleet.cli.options import EVERY_LIVE_HOST, host_option, json_option
from dockfleet.cli.output import ago, emit_json, size, table


@cli.command()
@json_option()
@click.pass_obj
def hosts(state: Context, as_json: bool) -> None:
    """List the fleet's Docker hosts and whether they are up."""
    found = state.fleet.hosts()
    if as_json:
        emit_json(found)
        return
    table(
        [
            "HOST",
            "STATUS",
            "ENGINE",
            "CPUS",
            "MEMORY",
            "RUNNING",
            "DISK",
            "STATS",
            "WORKERS",
            "LAST SEEN",
        ],
        [
            [
                h.name,
                "up" if h.up else ("engine down" if not h.engine_ok else "down"),
                h.docker_version,
                str(h.cpus),
                size(h.mem_total),
                str(h.containers_running),
                f"{h.disk_percent:.0f}%" if h.disk_percent is not None else "-",
                h.sampling_mode or "-",
                ", ".join(h.workers) or "-",
                ago(h.last_seen),
            ]
            for h in found
        ],
    )


@cli.command()
@host_option(EVERY_LIVE_HOST)
@json_option()
@click.pass_obj
def info(state: Context, host: str | None, as_json: bool) -> None:
    """Show `docker info` facts of the fleet's hosts."""
    infos = [state.fleet.get_system_info(host)] if host else state.fleet.system_info_all()
    if as_json:
        emit_json(infos)
        return
    table(
        ["HOST", "ENGINE", "API", "CPUS", "MEMORY", "RUNNING", "TOTAL", "IMAGES", "FLEET/MAX"],
        [
            [
                i.host,
                i.docker_version,
                i.api_version,
                str(i.cpus),
                size(i.mem_total),
                str(i.containers_running),
                str(i.containers_total),
                str(i.images),
                f"{i.fleet_containers}/{i.max_containers}",
            ]
            for i in infos
        ],
    )
