"""The engine's containers (and volumes) as the worker reads them: typed and read-only.

The adapters hand these out instead of the Engine API's JSON, so that no caller
spells ``doc["State"]["Running"]`` or ``row.get("Labels")``: the JSON is read
into them here, in one place. They stay inside the worker (plain
dataclasses: nothing to validate on the job path); what goes on the wire is a
`dockfleet.models` result (`ContainerInfo`, `NetworkInfo`, `ImageInfo`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dockfleet import labels as fleet_labels
from worker.ops.masking import secret_values


@dataclass(frozen=True, slots=True)
class ContainerSummary:
    """A container as ``GET /containers/json`` lists it (no inspect behind it)."""

    id: str
    #: every name the engine knows it by, each with its leading "/"
    names: tuple[str, ...] = ()
    #: created, running, paused, restarting, removing, exited or dead
    state: str = ""
    #: unix time of its creation
    created: float = 0.0
    labels: dict[str, str] = field(default_factory=dict)
    image_id: str = ""

    @property
    def name(self) -> str:
        """Its (first) name without the leading "/"; "" when it has none."""
        return self.names[0].lstrip("/") if self.names else ""

    @property
    def job(self) -> str | None:
        return self.labels.get(fleet_labels.JOB)


@dataclass(frozen=True, slots=True)
class ContainerState:
    """A container as ``GET /containers/{id}/json`` shows it: its run, and what the fleet
    reads of its setup."""

    id: str
    name: str = ""
    status: str = "unknown"
    #: the engine's own flag: also true while the container is paused or restarting
    running: bool = False
    restarting: bool = False
    #: the engine's exit code as it stands (0 before the first exit)
    exit_code: int | None = None
    oom_killed: bool = False
    #: the HEALTHCHECK's verdict (starting, healthy, unhealthy); None without one
    health: str | None = None
    created: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    labels: dict[str, str] = field(default_factory=dict)
    tty: bool = False
    #: "80/tcp", "53/udp"... as the image and the spec expose them
    exposed_ports: tuple[str, ...] = ()
    #: bytes (0: no limit)
    memory_limit: int = 0
    #: ids of the networks it has an endpoint on
    network_ids: frozenset[str] = frozenset()
    #: the values of its env variables the fleet marked secret (to mask its output)
    secret_values: tuple[str, ...] = field(default=(), repr=False)

    @property
    def job(self) -> str | None:
        return self.labels.get(fleet_labels.JOB)

    @property
    def managed(self) -> bool:
        return fleet_labels.is_managed(self.labels)

    @property
    def exposed_tcp_ports(self) -> list[int]:
        """The exposed TCP ports, in order."""
        return sorted(int(p.partition("/")[0]) for p in self.exposed_ports if p.endswith("/tcp"))


@dataclass(frozen=True, slots=True)
class Volume:
    """A volume as ``GET /volumes`` lists it (and ``POST /volumes/create`` returns it)."""

    name: str
    labels: dict[str, str] = field(default_factory=dict)
    created: datetime | None = None
    driver: str = "local"
    #: the driver's options (the local driver's ``type``, ``device``, ``o``): what it mounts
    options: dict[str, str] = field(default_factory=dict)

    @property
    def managed(self) -> bool:
        return fleet_labels.is_managed(self.labels)


def volume(doc: dict[str, Any]) -> Volume:
    """A `Volume` from the engine's JSON of one volume."""
    return Volume(
        name=str(doc["Name"]),
        labels=doc.get("Labels") or {},
        created=engine_time(doc.get("CreatedAt")),
        driver=str(doc.get("Driver") or "local"),
        options={str(k): str(v) for k, v in (doc.get("Options") or {}).items()},
    )


def container_state(doc: dict[str, Any]) -> ContainerState:
    """A `ContainerState` from ``GET /containers/{id}/json``."""
    state = doc.get("State") or {}
    config = doc.get("Config") or {}
    endpoints = ((doc.get("NetworkSettings") or {}).get("Networks") or {}).values()
    return ContainerState(
        id=str(doc["Id"]),
        name=str(doc.get("Name", "")).lstrip("/"),
        status=str(state.get("Status", "unknown")),
        running=bool(state.get("Running")),
        restarting=bool(state.get("Restarting")),
        exit_code=state.get("ExitCode"),
        oom_killed=bool(state.get("OOMKilled")),
        health=(state.get("Health") or {}).get("Status"),
        created=engine_time(doc.get("Created")),
        started_at=engine_time(state.get("StartedAt")),
        finished_at=engine_time(state.get("FinishedAt")),
        labels=config.get("Labels") or {},
        tty=bool(config.get("Tty")),
        exposed_ports=tuple(config.get("ExposedPorts") or ()),
        memory_limit=int((doc.get("HostConfig") or {}).get("Memory") or 0),
        network_ids=frozenset(str(e.get("NetworkID") or "") for e in endpoints) - {""},
        secret_values=tuple(secret_values(doc)),
    )


def container_summary(row: dict[str, Any]) -> ContainerSummary:
    """A `ContainerSummary` from a ``GET /containers/json`` row."""
    return ContainerSummary(
        id=str(row["Id"]),
        names=tuple(str(n) for n in row.get("Names") or ()),
        state=str(row.get("State", "")),
        created=float(row.get("Created", 0)),
        labels=row.get("Labels") or {},
        image_id=str(row.get("ImageID", "")),
    )


def engine_time(value: str | None) -> datetime | None:
    # The engine writes "0001-01-01T00:00:00Z" for "never" and nanosecond fractions.
    if not value or value.startswith("0001-"):
        return None
    head, dot, rest = value.partition(".")
    if dot:
        # Python parses at most microseconds: cut the fraction to 6 digits, keep the zone.
        fraction = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        zone = rest[len(fraction) :]
        value = f"{head}.{fraction[:6].ljust(6, '0')}{zone}"
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
