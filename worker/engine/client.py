"""Builds the docker-py client for the host named by the settings (unix, TCP, TLS).

Outside `worker.engine` the client is an opaque handle (`EngineClient`): it is
passed to the adapters, never called.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import docker
from docker.constants import MINIMUM_DOCKER_API_VERSION
from docker.tls import TLSConfig

from dockfleet.errors import InvalidSpec
from dockfleet.settings import Settings
from worker.engine.errors import fleet_error
from worker.engine.unix_transport import LightAPIClient

log = logging.getLogger(__name__)

#: enough pooled connections for a threads-pool worker, log followers and an API-mode
#: stats sweep that asks every container at once (unix-socket connections are cheap)
MAX_POOL_SIZE = 128
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class EngineClient(docker.DockerClient):
    """A docker-py client that knows the name of the Docker host it drives, so that the
    adapters' errors name it (`worker.engine.errors.translated`)."""

    def __init__(self, host_name: str, **kwargs: Any) -> None:
        # Not DockerClient.__init__: it would build a plain APIClient, the one thing it does.
        self.api = LightAPIClient(**kwargs)
        self.host_name = host_name


def make_client(settings: Settings) -> EngineClient:
    """A client of the settings' engine.

    With ``api_version="auto"`` (the default) this asks the engine's ``GET
    /version`` (unversioned: every engine answers it, Docker 29 included) once,
    here, and speaks its ``ApiVersion`` from then on: make one client per process.

    Raises:
        InvalidSpec: plain TCP to a remote engine (`allow_plain_tcp` is off).
        HostUnavailable: the engine did not say which API version it speaks.
    """
    tls: TLSConfig | bool = False
    if settings.uses_tls:
        cert = (settings.tls_cert, settings.tls_key) if settings.tls_cert else None
        tls = TLSConfig(
            client_cert=cert,  # type: ignore[arg-type]
            ca_cert=settings.tls_ca_cert,
            verify=(settings.tls_ca_cert or True) if settings.tls_verify else False,
        )
        if not settings.tls_verify:
            log.warning(
                "TLS to %s does not check the engine's certificate (DOCKER_CERT_PATH without "
                "DOCKER_TLS_VERIFY, or DOCKFLEET_TLS_VERIFY=false)",
                settings.docker_host,
            )
    base_url = settings.docker_host
    _refuse_plain_tcp(settings, bool(tls))
    if tls and base_url.startswith("tcp://"):
        base_url = "https://" + base_url.removeprefix("tcp://")
    auto = settings.api_version == "auto"
    client = EngineClient(
        settings.host_name,
        base_url=base_url,
        # Not "auto" here: docker-py would ask the engine before trust_env is off below.
        version=MINIMUM_DOCKER_API_VERSION if auto else settings.api_version,
        timeout=int(max(settings.default_timeout, 10)),
        tls=tls,
        max_pool_size=MAX_POOL_SIZE,
    )
    # Machines that export REQUESTS_CA_BUNDLE or HTTP_PROXY would otherwise make requests
    # ignore our CA or send engine calls through their proxy: the engine's trust is ours.
    client.api.trust_env = False
    if auto:
        try:
            _negotiate(client.api)
        except docker.errors.DockerException as exc:
            raise fleet_error(exc, settings.host_name) from exc
    return client


def _refuse_plain_tcp(settings: Settings, tls: bool) -> None:
    """An engine on TCP without TLS makes whoever reaches its port root on its host:
    only on loopback, or where the operator says so (`allow_plain_tcp`)."""
    parts = urlsplit(settings.docker_host)
    if parts.scheme not in ("tcp", "http") or tls:
        return
    if parts.hostname in LOOPBACK or settings.allow_plain_tcp:
        return
    raise InvalidSpec(
        f"the Docker host {settings.docker_host} is plain TCP without TLS: anyone who reaches "
        "it is root on that machine; give DOCKFLEET_TLS_CA_CERT, DOCKFLEET_TLS_CERT and "
        "DOCKFLEET_TLS_KEY (or DOCKER_TLS_VERIFY and DOCKER_CERT_PATH), or set "
        "DOCKFLEET_ALLOW_PLAIN_TCP=true on a network you trust"
    )


def _negotiate(api: docker.APIClient) -> None:
    """docker-py's own negotiation (`APIClient._retrieve_server_version`), env-free."""
    try:
        version = str(api.version(api_version=False)["ApiVersion"])
    except Exception as exc:  # its wording, so `translate` reads it as docker-py's
        raise docker.errors.DockerException(
            f"Error while fetching server API version: {exc}"
        ) from exc
    api._version = version  # type: ignore[attr-defined]  # docker-py keeps it there
