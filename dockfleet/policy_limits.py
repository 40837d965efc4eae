"""Resource limits under the policy: checked against its maxima, and the maxima applied
where a spec sets no limit, so that a policy maximum is also the default limit.

What the engine does with small or odd values (measured on Docker 20.10, cgroup v1):

- ``NanoCpus`` below 10,000 (0.00001 CPU) makes a CFS quota of 0, which the engine reads
  as no limit at all (``cpu.cfs_quota_us`` stays -1); from 10,000 to 9,999,999 the kernel
  refuses the quota (under 1 ms per 100 ms period) and the start fails. So a CPU limit
  below 0.01, Docker's documented minimum, is refused.
- A tmpfs's options reach the kernel with the last ``size=`` winning. The kernel reads
  ``size=0`` and ``nr_blocks=0`` as no limit, ``size=50%`` as a share of the host's RAM,
  ``0x...`` as hex and a leading ``0`` as octal. Only a plain whole number with an optional
  k, m, g or t is accepted, so that the size judged is the size mounted.
"""

from __future__ import annotations

import re
from typing import NoReturn

from dockfleet.errors import PolicyViolation
from dockfleet.models.container_spec import ContainerConfig
from dockfleet.models.units import parse_size
from dockfleet.policy_model import SecurityPolicy

#: Docker's smallest CPU limit; below it the engine applies none, or fails the start
MIN_CPUS = 0.01
NANO = 1_000_000_000
_PLAIN_SIZE = re.compile(r"[1-9][0-9]*[kmgtKMGT]?")


def nano_cpus(cores: float) -> int:
    """`cores` as the engine's ``NanoCpus`` (rounded: 0.29 must not become 289,999,999)."""
    return round(cores * NANO)


def effective_pids_limit(config: ContainerConfig, policy: SecurityPolicy) -> int:
    return config.pids_limit or policy.default_pids_limit


def tmpfs_size(options: str) -> int | None:
    """The size in bytes of a tmpfs mounted with `options` (None: they give no size).

    Raises:
        ValueError: a size the kernel would read otherwise than it looks (see above).
    """
    size = None
    for item in options.split(","):
        key, sep, value = item.partition("=")
        if sep and key == "nr_blocks":
            raise ValueError("nr_blocks= is not accepted: give the size as size=")
        if sep and key == "size":
            if not _PLAIN_SIZE.fullmatch(value):
                raise ValueError(f"size={value}: give a whole number, with k, m, g or t")
            size = parse_size(value)
    assert size is None or isinstance(size, int)
    return size


def sized_tmpfs(options: str, size: int) -> str:
    """`options` with ``size=`` `size` added when they give none."""
    if tmpfs_size(options) is not None:
        return options
    return f"{options},size={size}" if options else f"size={size}"


def check_limits(config: ContainerConfig, policy: SecurityPolicy) -> None:
    """Refuse limits above the policy's maxima, and CPU limits the engine would not apply."""
    if config.memory_limit and policy.max_memory and config.memory_limit > policy.max_memory:
        _over("max-memory", f"memory_limit={config.memory_limit}", policy.max_memory)
    if config.cpu_limit is not None and nano_cpus(config.cpu_limit) < nano_cpus(MIN_CPUS):
        raise PolicyViolation(
            "min-cpus",
            f"cpu_limit={config.cpu_limit}",
            f"Docker's smallest CPU limit is {MIN_CPUS}; below it the engine applies none",
        )
    if config.cpu_limit and policy.max_cpus and config.cpu_limit > policy.max_cpus:
        _over("max-cpus", f"cpu_limit={config.cpu_limit}", policy.max_cpus)
    pids = effective_pids_limit(config, policy)
    if pids > policy.max_pids_limit:
        _over("max-pids", f"pids_limit={pids}", policy.max_pids_limit, "MAX_PIDS_LIMIT")
    if config.shm_size and config.shm_size > policy.max_shm_size:
        _over("max-shm-size", f"shm_size={config.shm_size}", policy.max_shm_size)
    for path, options in config.tmpfs.items():
        try:
            size = tmpfs_size(options)
        except ValueError as exc:
            raise PolicyViolation("tmpfs-size", f"tmpfs {path}={options}", str(exc)) from None
        if size is not None and size > policy.max_tmpfs_size:
            _over("max-tmpfs-size", f"tmpfs {path}={options}", policy.max_tmpfs_size)
    for ulimit in config.ulimits:
        highest = policy.max_ulimits.get(ulimit.name)
        if highest is None:
            raise PolicyViolation(
                "ulimit",
                f"ulimit {ulimit.name}",
                f"DOCKFLEET_POLICY__MAX_ULIMITS has none for it ({sorted(policy.max_ulimits)})",
            )
        if highest != -1 and (ulimit.hard == -1 or ulimit.hard > highest):
            _over("max-ulimits", f"ulimit {ulimit.name} hard={ulimit.hard}", highest)


def with_policy_limits(
    config: ContainerConfig, policy: SecurityPolicy, *, host_cpus: int | None = None
) -> ContainerConfig:
    """`config` with the policy's maxima as the limits it does not set.

    Memory and CPUs when the policy has maxima (CPUs at most `host_cpus`: the engine
    refuses more than the host has), ``/dev/shm``, and the size of every tmpfs.
    """
    update: dict[str, object] = {}
    if config.memory_limit is None and policy.max_memory:
        update["memory_limit"] = policy.max_memory
    if config.cpu_limit is None and policy.max_cpus:
        update["cpu_limit"] = min(policy.max_cpus, host_cpus or policy.max_cpus)
    if config.shm_size is None:
        update["shm_size"] = policy.max_shm_size
    tmpfs = {path: sized_tmpfs(opts, policy.max_tmpfs_size) for path, opts in config.tmpfs.items()}
    if tmpfs != config.tmpfs:
        update["tmpfs"] = tmpfs
    return config.model_copy(update=update) if update else config


def _over(rule: str, value: str, highest: float, setting: str | None = None) -> NoReturn:
    name = setting or rule.upper().replace("-", "_")
    raise PolicyViolation(rule, value, f"at most {highest} (DOCKFLEET_POLICY__{name})")
