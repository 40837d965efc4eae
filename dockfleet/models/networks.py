"""Networks through the fleet: `NetworkOptions` (the original's, plus IPAM), info and filters."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime

from pydantic import Field, field_validator, model_validator

from dockfleet.models.container_spec import FrozenModel
from dockfleet.models.container_state import Result
from dockfleet.models.fields import LabelSelector, UserLabels

NETWORK_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$")
ALIAS_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")


def check_network_name(value: str) -> str:
    if not NETWORK_NAME_RE.match(value):
        raise ValueError(f"{value!r} is not a network name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)")
    return value


class NetworkOptions(FrozenModel):
    """How to create a network: the original's driver, internal, attachable and labels."""

    driver: str = Field(default="bridge", pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    internal: bool = Field(default=False, description="no route in or out of the network")
    attachable: bool = False
    labels: UserLabels = Field(default_factory=dict)
    subnet: str | None = Field(default=None, description="CIDR, e.g. 10.90.0.0/24")
    gateway: str | None = None
    enable_ipv6: bool = False
    options: dict[str, str] = Field(default_factory=dict, description="driver options")

    @field_validator("subnet")
    @classmethod
    def _subnet(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(ipaddress.ip_network(value, strict=True))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a subnet in CIDR form ({exc})") from None

    @model_validator(mode="after")
    def _gateway_in_subnet(self) -> NetworkOptions:
        if self.gateway is None:
            return self
        if self.subnet is None:
            raise ValueError("gateway needs a subnet")
        try:
            gateway = ipaddress.ip_address(self.gateway)
        except ValueError:
            raise ValueError(f"gateway {self.gateway!r} is not an IP address") from None
        if gateway not in ipaddress.ip_network(self.subnet):
            raise ValueError(f"gateway {self.gateway} is outside subnet {self.subnet}")
        return self


class NetworkEndpoint(Result):
    """A container attached to a network."""

    id: str
    name: str = ""
    ipv4_address: str = ""
    ipv6_address: str = ""


class NetworkInfo(Result):
    """A network on one host (a safe summary of `docker network inspect`)."""

    id: str
    name: str
    host: str
    driver: str = ""
    scope: str = ""
    internal: bool = False
    attachable: bool = False
    enable_ipv6: bool = False
    subnets: list[str] = Field(default_factory=list)
    gateways: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    options: dict[str, str] = Field(default_factory=dict)
    containers: list[NetworkEndpoint] = Field(default_factory=list)
    created: datetime | None = None
    managed: bool = False
    existed: bool = Field(default=False, description="a create found it already there")

    @property
    def short_id(self) -> str:
        return self.id[:12]


class NetworkFilter(FrozenModel):
    """Which networks to list; every criterion must hold."""

    name: str | None = Field(default=None, description="substring of the name, as docker's")
    labels: LabelSelector = Field(default_factory=dict)
    driver: str | None = None
    include_unmanaged: bool = Field(
        default=False, description="also list networks the fleet did not create"
    )
    host: str | None = None


def check_aliases(value: list[str]) -> list[str]:
    for alias in value:
        if not ALIAS_RE.match(alias):
            raise ValueError(f"{alias!r} is not a network alias (a DNS label)")
    return value
