"""Redis key names: the only place that spells them (like arq's constants)."""

from __future__ import annotations

PREFIX = "dockfleet"

#: sorted set: host name -> last heartbeat (unix time)
HOSTS = f"{PREFIX}:hosts"


def host(name: str) -> str:
    """Hash of one host's facts, written by its workers' heartbeats."""
    return f"{PREFIX}:host:{name}"


def host_slots_lock(name: str) -> str:
    """Lock held while a container is counted and created on host `name`."""
    return f"{PREFIX}:host:{name}:slots-lock"


def locate(ref: str) -> str:
    """Set of hosts that hold a container known by `ref` (id, short id or name)."""
    return f"{PREFIX}:locate:{ref}"


def log_stream(stream_id: str) -> str:
    """Stream of log lines a logs task writes for one reader."""
    return f"{PREFIX}:logstream:{stream_id}"


def log_reader(stream_id: str) -> str:
    """Lease of the reader of a log stream; when it expires the worker stops following."""
    return f"{PREFIX}:logstream:{stream_id}:reader"
