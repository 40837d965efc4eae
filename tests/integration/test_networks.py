"""Networks through the fleet: idempotent create, clear refusals, and isolation that holds.

Reachability is checked with busybox `nc` and `nslookup` between containers on
the fleet's own networks, and to a port published on one of those networks' gateway.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import docker
import pytest

from dockfleet import (
    Conflict,
    ContainerConfig,
    Fleet,
    InvalidSpec,
    NetworkFilter,
    NetworkInUse,
    NetworkOptions,
    PolicyViolation,
)
from dockfleet.policy_model import SecurityPolicy
from dockfleet.queues import host_queue
from tests.conftest import TEST_IMAGE, Host, running_host
from tests.support.services import free_port

pytestmark = pytest.mark.usefixtures("clean_engine")

TOKEN = "served-by-web"
SERVE = (
    f"mkdir -p /tmp/www && echo {TOKEN} > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"
)
#: an HTTP GET that succeeds only if the answer holds the expected token: this machine
#: may answer unknown addresses through a proxy, so "some answer" proves nothing.
#: (busybox-static's wget crashes here, so nc speaks the HTTP.)
FETCH_ONCE = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {address} {port} | grep -q {token}"
#: tries for a while, for a server that is still starting
FETCH_RETRYING = (
    "for i in 1 2 3 4 5 6 7 8 9 10; do " + FETCH_ONCE + " && exit 0; sleep 0.3; done; exit 1"
)
#: resolve with nslookup (which asks the network's DNS itself), then fetch that address
FETCH_BY_NAME = (
    "address=$(nslookup {name} 2>/dev/null | sed -n 's/^Address: \\([0-9.]*\\)$/\\1/p' "
    '| tail -1) && test -n "$address" && ' + FETCH_RETRYING.replace("{address}", "$address")
)


def net_name(purpose: str) -> str:
    return f"dft-{purpose}-{secrets.token_hex(3)}"


def start(fleet: Fleet, host: Host, network: str, command: str, name: str | None = None) -> str:
    config = ContainerConfig(image=TEST_IMAGE, network=network, cmd=["sh", "-c", command],
                             name=name)  # fmt: skip
    info = fleet.create_container(config, host=host.name)
    fleet.start_container(info.id, host=host.name)
    return info.id


def exit_code(fleet: Fleet, host: Host, network: str, command: str) -> int:
    container = start(fleet, host, network, command)
    return fleet.wait_container(container, timeout=60, host=host.name).exit_code


@pytest.fixture
def web(fleet: Fleet, host_a: Host) -> Iterator[tuple[str, str, str]]:
    """A web server on its own fleet network: (network, container id, its address there)."""
    network = fleet.create_network(net_name("web"), host=host_a.name).name
    container = start(fleet, host_a, network, SERVE)
    address = next(
        c.ipv4_address
        for c in fleet.inspect_network(network, host=host_a.name).containers
        if c.id == container
    )
    yield network, container, address


def test_create_is_idempotent_by_name_and_other_options_conflict(
    fleet: Fleet, host_a: Host
) -> None:
    # Given a network created with some options
    name = net_name("idem")
    options = NetworkOptions(internal=True, labels={"team": "ci"}, subnet="10.231.7.0/24",
                             gateway="10.231.7.1")  # fmt: skip
    first = fleet.create_network(name, options, host=host_a.name)
    assert first.internal and first.subnets == ["10.231.7.0/24"] and not first.existed
    assert first.labels["dockfleet.host"] == host_a.name and first.labels["team"] == "ci"

    # When the same create comes again, then it returns the very same network
    again = fleet.create_network(name, options, host=host_a.name)
    assert again.id == first.id and again.existed

    # And a create of that name with other options is a conflict that says what differs
    with pytest.raises(Conflict) as caught:
        fleet.create_network(name, NetworkOptions(internal=False), host=host_a.name)
    assert "internal is True, asked False" in str(caught.value)
    assert [n.id for n in fleet.list_networks(NetworkFilter(name=name))] == [first.id]


def test_overlay_needs_the_policy_and_then_a_swarm(
    fleet: Fleet, redis_url: str, local_engine: docker.DockerClient, policy: SecurityPolicy
) -> None:
    # By default only bridge networks are made, and the refusal names the setting
    with pytest.raises(PolicyViolation) as caught:
        fleet.create_network(net_name("ovl"), NetworkOptions(driver="overlay"))
    assert "DOCKFLEET_POLICY__ALLOWED_NETWORK_DRIVERS" in str(caught.value)
    # Where the policy allows overlay, a host outside a swarm says what it needs
    drivers = json.dumps(["bridge", "overlay"])
    env = {"DOCKFLEET_POLICY__ALLOWED_NETWORK_DRIVERS": drivers}
    with running_host("ovl", redis_url, policy, local_engine, **env) as host:
        args = [net_name("ovl"), {"driver": "overlay"}]
        with pytest.raises(InvalidSpec) as invalid:
            fleet.transport.call("dockfleet.networks.create", args, host_queue(host.name))
    assert "swarm" in str(invalid.value) and host.name in str(invalid.value)


def test_removing_a_network_in_use_names_its_containers(fleet: Fleet, host_a: Host) -> None:
    # Given a network with a running container on it
    network = fleet.create_network(net_name("busy"), host=host_a.name)
    holder = f"holder-{secrets.token_hex(3)}"
    container = start(fleet, host_a, network.name, "sleep 300", name=holder)

    # When it is removed, then the error names the container, and the network stays
    with pytest.raises(NetworkInUse) as caught:
        fleet.remove_network(network.name, host=host_a.name)
    assert caught.value.containers == [holder] and holder in str(caught.value)
    assert fleet.inspect_network(network.id, host=host_a.name).id == network.id

    # And once the container is gone it is removed; a second remove is still success
    fleet.remove_container(container, force=True)
    assert fleet.remove_network(network.name, host=host_a.name).removed is True
    assert fleet.remove_network(network.name, host=host_a.name).removed is False


def test_aliases_resolve_by_dns_inside_a_network(
    fleet: Fleet, host_a: Host, web: tuple[str, str, str]
) -> None:
    # Given the web server attached to a second fleet network under an alias
    network, container, _ = web
    shared = fleet.create_network(net_name("alias"), host=host_a.name).name
    joined = fleet.connect_to_network(shared, container, aliases=["web-alias"])
    address = next(c.ipv4_address for c in joined.containers if c.id == container)

    # When a container on that network looks the alias up and fetches from it
    lookup = f"nslookup web-alias | grep -q '{address}'"
    assert exit_code(fleet, host_a, shared, lookup) == 0
    fetch = FETCH_BY_NAME.format(name="web-alias", port=8080, token=TOKEN)
    assert exit_code(fleet, host_a, shared, fetch) == 0

    # Then after a disconnect the alias no longer resolves there
    left = fleet.disconnect_from_network(shared, container)
    assert all(c.id != container for c in left.containers)
    assert exit_code(fleet, host_a, shared, "nslookup web-alias") != 0
    assert network in fleet.inspect_container(container).networks


def test_containers_on_two_fleet_networks_cannot_reach_each_other(
    fleet: Fleet, host_a: Host, web: tuple[str, str, str]
) -> None:
    network, _, address = web
    other = fleet.create_network(net_name("other"), host=host_a.name).name
    # Given the server answers on its own network (so it is up)
    fetch = FETCH_RETRYING.format(address=address, port=8080, token=TOKEN)
    assert exit_code(fleet, host_a, network, fetch) == 0
    # When a container of another fleet network tries its address, then it cannot reach it
    once = FETCH_ONCE.format(address=address, port=8080, token=TOKEN)
    assert exit_code(fleet, host_a, other, once) != 0


def test_containers_on_an_internal_network_cannot_reach_outside_it(
    fleet: Fleet, host_a: Host
) -> None:
    # Given a web server published on the host, on the gateway address of its fleet network
    # (reaching it leaves the caller's network: the engine forwards it, as it would the world)
    outside = fleet.create_network(net_name("ext"), host=host_a.name)
    gateway, port = outside.gateways[0], free_port()
    config = ContainerConfig(image=TEST_IMAGE, network=outside.name, cmd=["sh", "-c", SERVE],
                             ports={f"{gateway}:{port}": "8080"})  # fmt: skip
    fleet.start_container(fleet.create_container(config, host=host_a.name).id)
    normal = fleet.create_network(net_name("norm"), host=host_a.name)
    internal = fleet.create_network(net_name("int"), NetworkOptions(internal=True),
                                    host=host_a.name)  # fmt: skip
    assert internal.internal

    # When a container on a normal network calls it, then it answers (the way out works)
    fetch = FETCH_RETRYING.format(address=gateway, port=port, token=TOKEN)
    assert exit_code(fleet, host_a, normal.name, fetch) == 0
    # And a container on the internal network cannot get out to it
    once = FETCH_ONCE.format(address=gateway, port=port, token=TOKEN)
    assert exit_code(fleet, host_a, internal.name, once) != 0


def test_list_and_inspect_show_the_fleets_networks_with_their_host(
    fleet: Fleet, host_a: Host
) -> None:
    made = fleet.create_network(net_name("ls"), NetworkOptions(attachable=True), host=host_a.name)
    listed = {n.name: n for n in fleet.list_networks(NetworkFilter(host=host_a.name))}
    assert made.name in listed and listed[made.name].host == host_a.name
    assert listed[made.name].managed and listed[made.name].attachable
    assert "bridge" not in listed
    everything = fleet.list_networks(NetworkFilter(host=host_a.name, include_unmanaged=True))
    assert "bridge" in {n.name for n in everything}
