"""worker.engine.errors.translate: docker-py and requests errors to the error tree."""

from __future__ import annotations

import docker.errors
import pytest
import requests

from dockfleet.errors import (
    Conflict,
    ContainerNotFound,
    EngineBusy,
    EngineError,
    HostUnavailable,
    ImageNotFound,
    InvalidSpec,
    NetworkNotFound,
)
from worker.engine.errors import translate

HOST = "ci-1"


def api_error(
    status: int, explanation: str, cls: type[docker.errors.APIError] = docker.errors.APIError
) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return cls(f"{status} Server Error", response=response, explanation=explanation)


def test_no_such_container_becomes_container_not_found_with_ref() -> None:
    error = translate(api_error(404, "No such container: abc", docker.errors.NotFound), HOST)
    assert isinstance(error, ContainerNotFound)
    assert (error.ref, error.host) == ("abc", HOST)


def test_no_such_image_becomes_image_not_found_with_ref() -> None:
    error = translate(
        api_error(404, "No such image: busybox:nope", docker.errors.ImageNotFound), HOST
    )
    assert type(error) is ImageNotFound
    assert error.ref == "busybox:nope"


def test_missing_network_becomes_network_not_found() -> None:
    error = translate(api_error(404, "network foo not found", docker.errors.NotFound), HOST)
    assert type(error) is NetworkNotFound
    assert error.ref == "foo"


def test_not_found_without_status_class_is_still_read_from_the_message() -> None:
    error = translate(api_error(404, "No such network: ci-net"), HOST)
    assert type(error) is NetworkNotFound and error.ref == "ci-net"


def test_conflict_409_becomes_conflict() -> None:
    error = translate(api_error(409, 'name "/web" is already in use'), HOST)
    assert type(error) is Conflict
    assert "already in use" in str(error) and HOST in str(error)


def test_bad_request_400_becomes_invalid_spec() -> None:
    error = translate(api_error(400, "invalid reference format"), HOST)
    assert type(error) is InvalidSpec
    assert "invalid reference format" in str(error)


def test_service_unavailable_503_becomes_transient_engine_busy() -> None:
    error = translate(api_error(503, "try later"), HOST)
    assert type(error) is EngineBusy
    assert error.transient is True


def test_pull_access_denied_500_becomes_image_not_found() -> None:
    text = (
        "pull access denied for nope/image, repository does not exist or may require 'docker login'"
    )
    error = translate(api_error(500, text), HOST)
    assert type(error) is ImageNotFound
    assert error.ref == "nope/image"
    assert error.transient is False


def test_other_server_error_becomes_permanent_engine_error() -> None:
    error = translate(api_error(500, "something broke"), HOST)
    assert type(error) is EngineError
    assert "(500)" in str(error)


def test_requests_connection_error_becomes_transient_host_unavailable() -> None:
    exc = requests.exceptions.ConnectionError("Connection aborted.\nFileNotFoundError(2)")
    error = translate(exc, HOST)
    assert type(error) is HostUnavailable
    assert error.transient is True
    assert (error.host, error.reason) == (HOST, "Connection aborted.")


def test_requests_read_timeout_becomes_engine_busy() -> None:
    assert type(translate(requests.exceptions.ReadTimeout("read timed out"), HOST)) is EngineBusy


def test_plain_docker_exception_becomes_host_unavailable() -> None:
    exc = docker.errors.DockerException("Error while fetching server API version")
    error = translate(exc, HOST)
    assert type(error) is HostUnavailable
    assert error.reason == "Error while fetching server API version"


def test_fleet_errors_pass_through_unchanged() -> None:
    original = ContainerNotFound("x", HOST)
    assert translate(original, HOST) is original


@pytest.mark.parametrize("exc", [ValueError("x"), KeyError("k"), RuntimeError("r")])
def test_non_engine_errors_are_not_translated(exc: Exception) -> None:
    assert translate(exc, HOST) is None


#: Docker 29's answer, word for word, to any path under /v1.41/ ... /v1.43/
DOCKER_29_REFUSAL = (
    "client version 1.41 is too old. Minimum supported API version is 1.44, please upgrade "
    "your client to a newer version"
)


def test_an_engine_refusing_an_old_api_version_says_which_setting_mends_it() -> None:
    error = translate(api_error(400, DOCKER_29_REFUSAL), HOST)
    assert type(error) is EngineError
    assert str(error) == (
        f"the engine of host {HOST!r} refuses API 1.41 (minimum 1.44): set "
        "DOCKFLEET_API_VERSION=auto or a newer version on the host's worker and restart it"
    )


@pytest.mark.parametrize(
    "message",
    [
        "client version 1.52 is too new. Maximum supported API version is 1.41",
        "client is newer than server (client API version: 1.52, server API version: 1.41)",
    ],
)
def test_an_engine_refusing_a_new_api_version_asks_for_auto_or_an_older_one(message: str) -> None:
    error = translate(api_error(400, message), HOST)
    assert type(error) is EngineError
    assert "refuses API 1.52 (maximum 1.41)" in str(error)
    assert "DOCKFLEET_API_VERSION=auto or an older version" in str(error)
