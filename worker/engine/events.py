"""Events adapter: the engine's container events, typed, from a stream another thread can close."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import docker

from worker.engine.errors import raise_translated


@dataclass(frozen=True, slots=True)
class ContainerEvent:
    """One event of one container."""

    #: "create", "start", "die", "destroy"... with a detail after a colon for some
    #: ("exec_start: sh -c ...", "health_status: healthy")
    action: str
    container_id: str
    #: the exit code a "die" reports
    exit_code: int | None = None
    #: when it happened, in nanoseconds since the epoch
    time_ns: int | None = None


class ContainerEvents:
    """The events of the containers carrying every label in `labels`, from `since` until
    `until` (unix seconds): iterate it; `close` (from any thread) ends the iteration."""

    def __init__(
        self, client: docker.DockerClient, *, labels: list[str], since: int, until: int
    ) -> None:
        self._client = client
        try:
            self._stream: Any = client.api.events(
                since=since,
                until=until,
                decode=True,
                filters={"type": "container", "label": labels},
            )
        except Exception as exc:
            raise_translated(exc, client)

    def __iter__(self) -> Iterator[ContainerEvent]:
        try:
            for event in self._stream:
                yield container_event(event)
        except Exception as exc:
            raise_translated(exc, self._client)

    def close(self) -> None:
        self._stream.close()


def container_event(event: dict[str, Any]) -> ContainerEvent:
    """A `ContainerEvent` from one decoded ``GET /events`` message."""
    actor = event.get("Actor") or {}
    code = str((actor.get("Attributes") or {}).get("exitCode", ""))
    return ContainerEvent(
        action=str(event.get("Action", "")),
        container_id=str(event.get("id") or actor.get("ID", "")),
        exit_code=int(code) if code.lstrip("-").isdigit() else None,
        time_ns=int(event["timeNano"]) if event.get("timeNano") else None,
    )
