"""The security policy as data: what a fleet container may ask for.

It is a nested model of `Settings` (env ``DOCKFLEET_POLICY__*``, JSON for lists).
The checks that apply it live in `dockfleet.policy`.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from dockfleet.models.container_spec import Bytes
from dockfleet.security_opts import normalise_all

#: Docker's default capabilities minus the risky ones (NET_RAW, MKNOD, SYS_CHROOT,
#: AUDIT_WRITE, SETFCAP, SETPCAP): what CI work plausibly needs back after CapDrop ALL.
SAFE_CAPABILITIES = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "NET_BIND_SERVICE",
    "SETGID",
    "SETUID",
]
#: highest hard limit per ulimit (setrlimit units; -1: unlimited is fine). Capped: what
#: raises priority (nice above 20 is a negative nice value, any rtprio is real-time
#: scheduling that can starve the host), pins memory, or grows per-user kernel memory.
SAFE_ULIMITS = {
    "core": -1,
    "cpu": -1,
    "data": -1,
    "fsize": -1,
    "locks": -1,
    "memlock": 64 * 1024**2,
    "msgqueue": 819_200,
    "nice": 20,
    "nofile": 1_048_576,
    "nproc": -1,
    "rss": -1,
    "rtprio": 0,
    "rttime": -1,
    "sigpending": -1,
    "stack": -1,
}
#: bridge options that only narrow what a network does (no host interface, no routing)
SAFE_NETWORK_OPTIONS = [
    "com.docker.network.bridge.enable_icc",
    "com.docker.network.bridge.enable_ip_masquerade",
    "com.docker.network.driver.mtu",
]
#: the private address ranges: a subnet outside them would route public addresses
#: (for the host and every container on it) into the network
PRIVATE_SUBNETS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]


class SecurityPolicy(BaseModel):
    """Limits every fleet container is held to, on the producer and on the worker."""

    allowed_images: list[str] = Field(
        default_factory=list,
        description="fnmatch patterns on the image reference; empty allows every image",
    )
    allowed_host_paths: list[str] = Field(
        default_factory=list,
        description="host path prefixes that may be bind-mounted; empty allows none",
    )
    allow_privileged: bool = False
    allow_root: bool = False
    allow_host_network: bool = False
    allowed_capabilities: list[str] = Field(default_factory=lambda: list(SAFE_CAPABILITIES))
    default_user: str = "65534:65534"
    default_pids_limit: int = Field(default=512, gt=0)
    max_pids_limit: int = Field(default=4096, gt=0)
    max_memory: Bytes | None = Field(default=None, description="bytes, or 512m, 2g")
    #: Docker's smallest CPU limit is 0.01 (`dockfleet.policy_limits.MIN_CPUS`)
    max_cpus: float | None = Field(default=None, ge=0.01)
    max_shm_size: Bytes = Field(
        default="64m",
        validate_default=True,
        description="largest /dev/shm, and the size of one a spec does not size (Docker's 64m)",
    )
    max_tmpfs_size: Bytes = Field(
        default="1g",
        validate_default=True,
        description="largest tmpfs mount, and the size of one a spec does not size",
    )
    max_ulimits: dict[str, int] = Field(
        default_factory=lambda: dict(SAFE_ULIMITS),
        description="ulimit name -> highest hard limit (-1: any); other ulimits are refused",
    )
    allowed_security_opts: list[str] = Field(
        default_factory=list,
        description="security options allowed besides no-new-privileges (exact, key=value)",
    )

    @field_validator("allowed_security_opts")
    @classmethod
    def _normalised_options(cls, value: list[str]) -> list[str]:
        return normalise_all(value)

    allowed_networks: list[str] = Field(
        default_factory=list,
        description="networks the fleet did not make that containers may join (names; "
        "bridge and none always)",
    )
    allowed_network_drivers: list[str] = Field(
        default_factory=lambda: ["bridge"], description="drivers a network create may use"
    )
    allowed_network_options: list[str] = Field(
        default_factory=lambda: list(SAFE_NETWORK_OPTIONS),
        description="driver options a network create may set",
    )
    allowed_subnets: list[str] = Field(
        default_factory=lambda: list(PRIVATE_SUBNETS),
        description="ranges that a network's subnet must lie in",
    )
    allow_builds: bool = Field(
        default=False,
        description="allow image builds (their RUN steps run as root with the engine's "
        "defaults; always allowed where the engine remaps root)",
    )
    allow_unmanaged: bool = Field(
        default=False,
        description="let the fleet inspect, stop, kill, remove and read the logs of "
        "containers it did not make",
    )
