"""Builds the docker-py client for the host named by the settings (unix, TCP, TLS)."""

from __future__ import annotations

import docker
from docker.tls import TLSConfig

from dockfleet.settings import Settings

#: enough pooled connections for a threads-pool worker, log followers and an API-mode
#: stats sweep that asks every container at once (unix-socket connections are cheap)
MAX_POOL_SIZE = 128


def make_client(settings: Settings) -> docker.DockerClient:
    tls: TLSConfig | bool = False
    if settings.uses_tls:
        cert = (settings.tls_cert, settings.tls_key) if settings.tls_cert else None
        tls = TLSConfig(
            client_cert=cert,  # type: ignore[arg-type]
            ca_cert=settings.tls_ca_cert,
            verify=settings.tls_ca_cert or True,
        )
    base_url = settings.docker_host
    if tls and base_url.startswith("tcp://"):
        base_url = "https://" + base_url.removeprefix("tcp://")
    client = docker.DockerClient(
        base_url=base_url,
        version=settings.api_version,
        timeout=int(max(settings.default_timeout, 10)),
        tls=tls,
        max_pool_size=MAX_POOL_SIZE,
    )
    # Machines that export REQUESTS_CA_BUNDLE would otherwise make requests ignore
    # our CA and fail TLS to the engine: the engine's trust is ours, not the env's.
    client.api.trust_env = False
    return client
