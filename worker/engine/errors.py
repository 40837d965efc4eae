"""The one translator from docker-py / requests errors to the dockfleet error tree.

docker-py maps HTTP statuses to a few classes and lets connection errors
through untranslated; this maps both, reading the engine's message where the
status alone is too coarse (a 404 may be a container, an image or a network).

Every adapter of `worker.engine` raises only what this makes (`translated`,
`translated_events`): no docker-py or requests error leaves the package.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Concatenate, NoReturn, ParamSpec, TypeVar

import docker.errors
import requests

from dockfleet.errors import (
    BuildFailed,
    Conflict,
    ContainerNotFound,
    EngineBusy,
    EngineError,
    FleetError,
    HostUnavailable,
    ImageNotFound,
    InvalidSpec,
    NetworkNotFound,
    NotFound,
    RegistryAuthError,
)

_NO_SUCH = re.compile(r"no such (container|image|network)s?:\s*(\S+)", re.IGNORECASE)
_IMAGE_HINTS = ("pull access denied", "manifest unknown", "repository does not exist")
_NETWORK_NOT_FOUND = re.compile(r"network (\S+) not found", re.IGNORECASE)
_AUTH_HINTS = (
    "unauthorized",
    "authentication required",
    "no basic auth credentials",
    "incorrect username or password",
    "denied: requested access to the resource is denied",
)
#: a registry or the path to it failing for now; the engine reports these as 500s
_TRANSIENT_HINTS = (
    "503 service unavailable",
    "502 bad gateway",
    "504 gateway timeout",
    "tls handshake timeout",
    "i/o timeout",
    "connection reset by peer",
    "unexpected eof",
    "too many requests",
)
_REGISTRY_URL = re.compile(r"https?://([^/\s\"]+)/v2/")
_SWARM_HINTS = ("not a swarm manager", "swarm mode", "not part of a swarm")
#: the engine's refusal of the API version a client speaks, on every versioned path:
#: "client version 1.41 is too old. Minimum supported API version is 1.44, ..." (Docker 29),
#: "... is too new. Maximum supported API version is 1.41", and on old engines "client is
#: newer than server (client API version: 1.45, server API version: 1.41)"
_VERSION_REFUSED = (
    re.compile(
        r"client version (?P<client>[\d.]+) is too (?P<way>old|new)\. \w+ supported API "
        r"version is (?P<limit>[\d.]+)",
        re.IGNORECASE,
    ),
    re.compile(
        r"client is (?P<way>newer) than server \(client API version: (?P<client>[\d.]+), "
        r"server API version: (?P<limit>[\d.]+)\)",
        re.IGNORECASE,
    ),
)
#: lines of a failed build's log that its error carries
BUILD_LOG_TAIL = 20
_NOT_FOUND_KIND: dict[str, type[NotFound]] = {
    "container": ContainerNotFound,
    "image": ImageNotFound,
    "network": NetworkNotFound,
}
P = ParamSpec("P")
R = TypeVar("R")
E = TypeVar("E")


def translated(
    call: Callable[Concatenate[docker.DockerClient, P], R],
) -> Callable[Concatenate[docker.DockerClient, P], R]:
    """An adapter that raises dockfleet errors only, naming the client's Docker host."""

    @functools.wraps(call)
    def adapter(client: docker.DockerClient, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return call(client, *args, **kwargs)
        except Exception as exc:
            raise_translated(exc, client)

    return adapter


def translated_events(
    call: Callable[Concatenate[docker.DockerClient, P], Iterator[E]],
) -> Callable[Concatenate[docker.DockerClient, P], Iterator[E]]:
    """`translated` for an adapter that streams (its errors come while it is iterated)."""

    @functools.wraps(call)
    def adapter(client: docker.DockerClient, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[E]:
        try:
            yield from call(client, *args, **kwargs)
        except Exception as exc:
            raise_translated(exc, client)

    return adapter


def raise_translated(exc: Exception, client: docker.DockerClient) -> NoReturn:
    """Raise `exc` as a dockfleet error (as it is when it is none of the engine's)."""
    error = fleet_error(exc, host_of(client))
    if error is exc:
        raise exc
    raise error from exc


def host_of(client: docker.DockerClient) -> str:
    """The Docker host a client drives, for its errors: an `EngineClient` knows it, a bare
    docker-py client (a test's) does not."""
    return str(getattr(client, "host_name", ""))


def fleet_error(exc: Exception, host: str) -> Exception:
    """The dockfleet error for `exc`, or `exc` itself when it is not an engine error."""
    return translate(exc, host) or exc


def translate(exc: BaseException, host: str) -> FleetError | None:
    """The dockfleet error for `exc`, or None when it is not an engine error."""
    if isinstance(exc, FleetError):
        return exc
    if isinstance(exc, docker.errors.BuildError):
        return BuildFailed(str(exc.msg), build_log_tail(exc.build_log), host)
    if isinstance(exc, requests.exceptions.ConnectionError | ConnectionError):
        return HostUnavailable(host, _first_line(exc))
    if isinstance(exc, requests.exceptions.Timeout | TimeoutError):
        return EngineBusy(f"Docker host {host!r} did not answer in time: {_first_line(exc)}")
    if isinstance(exc, docker.errors.APIError):
        return _from_api_error(exc, host)
    if isinstance(exc, docker.errors.DockerException):
        # Raised e.g. when the API version cannot be fetched: the engine is not there.
        return HostUnavailable(host, _first_line(exc))
    return None


def _from_api_error(exc: docker.errors.APIError, host: str) -> FleetError:
    text = str(exc.explanation or exc)
    status = exc.status_code or 0
    lower = text.lower()
    refused = _version_refused(text, host)
    if refused is not None:
        return refused
    # Docker Hub says "pull access denied ... does not exist or may require 'docker
    # login'" for a missing repository: that stays ImageNotFound, as before.
    if "pull access denied" not in lower and any(hint in lower for hint in _AUTH_HINTS):
        registry = _REGISTRY_URL.search(text)
        reason = text.strip().splitlines()[0][:300] if text.strip() else "unauthorized"
        return RegistryAuthError(registry.group(1) if registry else "", host, reason)
    if any(hint in lower for hint in _SWARM_HINTS):
        return InvalidSpec(
            f"host {host!r} is not in a swarm: overlay networks need one (docker swarm init "
            f"or join on that host), or use the bridge driver; the engine said: {text}"
        )
    if status == 403 and "active endpoints" in lower:
        return Conflict(f"conflict on host {host!r}: {text}")
    if any(hint in lower for hint in _TRANSIENT_HINTS):
        return EngineBusy(f"a registry call of host {host!r} failed for now: {text}")
    if "address pool" in text:
        # The engine ran out of subnets for networks (a 404, but nothing is missing).
        return EngineError(
            f"host {host!r} has no free address pool for another network ({text}); give "
            "dockerd more default-address-pools or lower DOCKFLEET_NETWORK_POOL_MAX"
        )
    if status == 404 or isinstance(exc, docker.errors.NotFound):
        return _not_found(text, host, exc)
    if status == 409:
        return Conflict(f"conflict on host {host!r}: {text}")
    if status == 400:
        return InvalidSpec(f"the engine of host {host!r} refused the request: {text}")
    if status == 503:
        return EngineBusy(f"the engine of host {host!r} is busy: {text}")
    if any(hint in text.lower() for hint in _IMAGE_HINTS):
        return ImageNotFound(_image_ref(text), host)
    return EngineError(f"engine error on host {host!r} ({status}): {text}")


def _version_refused(text: str, host: str) -> EngineError | None:
    """The engine refuses the API version the worker speaks: say which setting mends it."""
    match = next((m for p in _VERSION_REFUSED if (m := p.search(text))), None)
    if match is None:
        return None
    old = match.group("way").lower() == "old"
    return EngineError(
        f"the engine of host {host!r} refuses API {match.group('client')} "
        f"({'minimum' if old else 'maximum'} {match.group('limit')}): set "
        f"DOCKFLEET_API_VERSION=auto or {'a newer' if old else 'an older'} version "
        "on the host's worker and restart it"
    )


def _not_found(text: str, host: str, exc: docker.errors.APIError) -> NotFound:
    match = _NO_SUCH.search(text)
    if match:
        return _NOT_FOUND_KIND[match.group(1).lower()](match.group(2), host)
    network = _NETWORK_NOT_FOUND.search(text)
    if network:
        return NetworkNotFound(network.group(1), host)
    if isinstance(exc, docker.errors.ImageNotFound) or any(h in text.lower() for h in _IMAGE_HINTS):
        return ImageNotFound(_image_ref(text), host)
    return ContainerNotFound(text, host)


def _image_ref(text: str) -> str:
    match = re.search(r"(?:for|image|repository)\s+([\w./:@-]+)", text)
    return match.group(1).rstrip(",:") if match else text


def build_log_tail(events: Iterable[Any], lines: int = BUILD_LOG_TAIL) -> list[str]:
    """The last `lines` lines of a build's log, from its events."""
    text = "".join(str(e.get("stream", "")) for e in events or [] if isinstance(e, dict))
    return [line for line in text.splitlines() if line.strip()][-lines:]


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
