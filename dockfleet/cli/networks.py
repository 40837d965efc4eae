"""``dockfleet network create|ls|rm|connect|disconnect|inspect``."""

from __future__ import annotations

import click

from dockfleet.cli.key_values import pairs, parse_filters
from dockfleet.cli.main import Context, cli
from dockfleet.cli.options import (
    EVERY_LIVE_HOST,
    HOST_OF_THE_CONTAINER,
    ONLY_LIVE_HOST,
    filter_option,
    host_option,
    json_option,
    quiet_option,
)
from dockfleet.cli.output import ago, emit_json, for_each, listing
from dockfleet.models import NetworkFilter, NetworkOptions


@cli.group("network")
def network() -> None:
    """Manage the networks of the fleet's hosts."""


@network.command("create")
@host_option(ONLY_LIVE_HOST)
@click.option("--driver", "-d", default="bridge", show_default=True)
@click.option("--internal", is_flag=True, help="No traffic in or out of the network.")
@click.option("--attachable", is_flag=True, help="Standalone containers may attach (overlay).")
@click.option("--label", "labels", multiple=True, metavar="K=V", help="Repeatable.")
@click.option("--subnet", help="CIDR, e.g. 10.90.0.0/24.")
@click.option("--gateway", help="Gateway address inside --subnet.")
@click.option("--ipv6", is_flag=True, help="Enable IPv6.")
@click.option("--opt", "-o", "opts", multiple=True, metavar="K=V", help="Driver option.")
@json_option("Print the network as JSON.")
@click.argument("name")
@click.pass_obj
def create(
    state: Context,
    host: str | None,
    driver: str,
    internal: bool,
    attachable: bool,
    labels: tuple[str, ...],
    subnet: str | None,
    gateway: str | None,
    ipv6: bool,
    opts: tuple[str, ...],
    as_json: bool,
    name: str,
) -> None:
    """Create a network (the same again returns the one there; other options conflict)."""
    options = NetworkOptions(
        driver=driver,
        internal=internal,
        attachable=attachable,
        labels=pairs(labels, "--label"),
        subnet=subnet,
        gateway=gateway,
        enable_ipv6=ipv6,
        options=pairs(opts, "--opt"),
    )
    info = state.fleet.create_network(name, options, host=host)
    if as_json:
        emit_json(info)
    else:
        click.echo(info.id)


@network.command("ls")
@host_option(EVERY_LIVE_HOST)
@click.option("--all", "-a", "every", is_flag=True, help="Also networks the fleet did not create.")
@filter_option("name=part, driver=name, label=k[=v] (repeatable).")
@quiet_option()
@json_option()
@click.pass_obj
def ls(
    state: Context,
    host: str | None,
    every: bool,
    filters: tuple[str, ...],
    quiet: bool,
    as_json: bool,
) -> None:
    """List the fleet's networks on every host."""
    spec = parse_filters(filters, lists={"label": "labels"}, single=["name", "driver"])
    query = NetworkFilter.model_validate({**spec, "host": host, "include_unmanaged": every})
    found = state.fleet.list_networks(query)
    headers = ["NETWORK ID", "NAME", "HOST", "DRIVER", "SCOPE", "INTERNAL", "SUBNET", "CREATED"]
    rows = (
        [
            n.short_id,
            n.name,
            n.host,
            n.driver,
            n.scope,
            "yes" if n.internal else "",
            ", ".join(n.subnets),
            ago(n.created),
        ]
        for n in found
    )
    listing(found, as_json=as_json, quiet=quiet, headers=headers, rows=rows)


@network.command("rm")
@host_option(ONLY_LIVE_HOST)
@click.argument("refs", nargs=-1, required=True)
@click.pass_obj
def rm(state: Context, host: str | None, refs: tuple[str, ...]) -> None:
    """Remove networks (one still in use is refused, naming its containers)."""
    for_each(refs, lambda ref: state.fleet.remove_network(ref, host=host))


@network.command("connect")
@host_option(HOST_OF_THE_CONTAINER)
@click.option("--alias", "aliases", multiple=True, help="DNS name in the network (repeatable).")
@click.option("--ip", "ipv4_address", help="IPv4 address in the network.")
@click.argument("network_ref", metavar="NETWORK")
@click.argument("container")
@click.pass_obj
def connect(
    state: Context,
    host: str | None,
    aliases: tuple[str, ...],
    ipv4_address: str | None,
    network_ref: str,
    container: str,
) -> None:
    """Attach a container to a network of its host."""
    state.fleet.connect_to_network(
        network_ref, container, list(aliases), host=host, ipv4_address=ipv4_address
    )


@network.command("disconnect")
@host_option(HOST_OF_THE_CONTAINER)
@click.option("--force", "-f", is_flag=True, help="Force the container off the network.")
@click.argument("network_ref", metavar="NETWORK")
@click.argument("container")
@click.pass_obj
def disconnect(
    state: Context, host: str | None, force: bool, network_ref: str, container: str
) -> None:
    """Detach a container from a network."""
    state.fleet.disconnect_from_network(network_ref, container, force=force, host=host)


@network.command("inspect")
@host_option(ONLY_LIVE_HOST)
@click.argument("refs", nargs=-1, required=True)
@click.pass_obj
def inspect(state: Context, host: str | None, refs: tuple[str, ...]) -> None:
    """Show networks as JSON."""
    emit_json([state.fleet.inspect_network(ref, host=host) for ref in refs])
