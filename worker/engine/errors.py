"""The one translator from docker-py / requests errors to the dockfleet error tree.

docker-py maps HTTP statuses to a few classes and lets connection errors
through untranslated; this maps both, reading the engine's message where the
status alone is too coarse (a 404 may be a container, an image or a network).
"""

from __future__ import annotations

import re

import docker.errors
import requests

from dockfleet.errors import (
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
)

_NO_SUCH = re.compile(r"no such (container|image|network)s?:\s*(\S+)", re.IGNORECASE)
_IMAGE_HINTS = ("pull access denied", "manifest unknown", "repository does not exist")
_NETWORK_NOT_FOUND = re.compile(r"network (\S+) not found", re.IGNORECASE)
_NOT_FOUND_KIND: dict[str, type[NotFound]] = {
    "container": ContainerNotFound,
    "image": ImageNotFound,
    "network": NetworkNotFound,
}


def translate(exc: BaseException, host: str) -> FleetError | None:
    """The dockfleet error for `exc`, or None when it is not an engine error."""
    if isinstance(exc, FleetError):
        return exc
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


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
