"""Events adapter: the engine's container events, typed, from a stream another thread can close.

On a unix socket the stream is read on the light path (`unix_transport.get_stream`):
the state-cache follower reads it for every job container's create, start, die and
destroy, and requests' and urllib3's reads cost it more CPU than the events' own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import docker
from docker.utils import convert_filters
from docker.utils.json_stream import json_stream

from worker.engine.errors import raise_translated
from worker.engine.unix_transport import get_stream, stream_body


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
    #: the container's name (without the leading "/")
    name: str = ""


class ContainerEvents:
    """The events of the containers carrying every label in `labels`, from `since` until
    `until` (unix seconds): iterate it; `close` (from any thread) ends the iteration."""

    def __init__(
        self, client: docker.DockerClient, *, labels: list[str], since: int, until: int
    ) -> None:
        self._client = client
        filters = {"type": "container", "label": labels}
        api: Any = client.api  # docker-py's private helpers are untyped
        try:
            # docker-py's own parameters and JSON decoder (`APIClient.events`), on the
            # light path when the engine is a unix socket.
            params = {"since": since, "until": until, "filters": convert_filters(filters)}
            response = get_stream(api, api._url("/events"), params, follow=True)
            if response is None:
                self._stream: Any = api.events(
                    since=since, until=until, decode=True, filters=filters
                )
                self._close = self._stream.close
            else:
                # docker-py's decoder reads bytes too (its stubs say str)
                self._stream = json_stream(cast(Any, stream_body(response).chunks()))
                self._close = response.close
        except Exception as exc:
            raise_translated(exc, client)

    def __iter__(self) -> Iterator[ContainerEvent]:
        try:
            for event in self._stream:
                yield container_event(event)
        except OSError:
            return  # the stream broke: it ends, as docker-py's `CancellableStream` ends
        except Exception as exc:
            raise_translated(exc, self._client)

    def close(self) -> None:
        self._close()


def container_event(event: dict[str, Any]) -> ContainerEvent:
    """A `ContainerEvent` from one decoded ``GET /events`` message."""
    actor = event.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    code = str(attributes.get("exitCode", ""))
    return ContainerEvent(
        action=str(event.get("Action", "")),
        container_id=str(event.get("id") or actor.get("ID", "")),
        exit_code=int(code) if code.lstrip("-").isdigit() else None,
        time_ns=int(event["timeNano"]) if event.get("timeNano") else None,
        name=str(attributes.get("name", "")),
    )
