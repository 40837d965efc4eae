"""The policy on namespaces and networks: what a container may join, what a user may name.

These checks need no engine, so the producer and the worker both run them.
What only the engine knows (whose network a name or id resolves to) is judged
on the worker, in `worker.ops.scope`.
"""

from __future__ import annotations

import ipaddress

from dockfleet.errors import PolicyViolation
from dockfleet.models.container_spec import ContainerConfig
from dockfleet.models.networks import NETWORK_NAME_RE, NetworkOptions
from dockfleet.names import is_reserved_name
from dockfleet.policy_model import SecurityPolicy

#: network modes every container may use (``host`` is the policy's own switch)
SHARED_MODES = ("default", "bridge", "none", "host")
RESERVED_HINT = "dfj-/dfp- names are the fleet's own (its jobs and job networks)"


def check_network_mode(config: ContainerConfig, policy: SecurityPolicy) -> None:
    """Allow the engine's shared modes and a network's name or id, and nothing else.

    ``container:<id>`` (another container's network namespace) is never allowed:
    the fleet's service probe uses it, and does not pass through here.
    """
    network = config.network
    if network is None or network in SHARED_MODES:
        return
    if network.partition(":")[0].strip().lower() == "container":
        raise PolicyViolation(
            "network-namespace",
            f"network={network}",
            "joining another container's network namespace is never allowed",
        )
    if not NETWORK_NAME_RE.match(network):
        raise PolicyViolation(
            "network-mode",
            f"network={network}",
            "a network is default, bridge, none, host or the name or id of a network",
        )


def check_user_container(config: ContainerConfig) -> None:
    """Refuse a user's container named like the fleet's own (the runner's skip this check)."""
    if config.name is not None and is_reserved_name(config.name):
        raise PolicyViolation("reserved-name", f"name={config.name}", RESERVED_HINT)


def check_network_create(name: str, options: NetworkOptions, policy: SecurityPolicy) -> None:
    """Refuse a network a user may not make: a fleet name, a driver, option or subnet
    outside the policy's allow-lists."""
    if is_reserved_name(name):
        raise PolicyViolation("reserved-name", f"network name={name}", RESERVED_HINT)
    if options.driver not in policy.allowed_network_drivers:
        raise PolicyViolation(
            "network-driver",
            f"driver={options.driver}",
            f"allowed drivers: {policy.allowed_network_drivers} "
            "(DOCKFLEET_POLICY__ALLOWED_NETWORK_DRIVERS)",
        )
    for key, value in options.options.items():
        if key not in policy.allowed_network_options:
            raise PolicyViolation(
                "network-option",
                f"{key}={value}",
                f"allowed options: {policy.allowed_network_options} "
                "(DOCKFLEET_POLICY__ALLOWED_NETWORK_OPTIONS)",
            )
    if options.subnet is not None:
        subnet = ipaddress.ip_network(options.subnet)
        ranges = [ipaddress.ip_network(r, strict=False) for r in policy.allowed_subnets]
        if not any(
            subnet.version == r.version and subnet.subnet_of(r)  # type: ignore[arg-type]
            for r in ranges
        ):
            raise PolicyViolation(
                "network-subnet",
                f"subnet={options.subnet}",
                f"a subnet must lie in {policy.allowed_subnets} "
                "(DOCKFLEET_POLICY__ALLOWED_SUBNETS)",
            )
