"""The one way dockfleet opens Redis: the URL, timeouts and TLS (``rediss://``) from settings."""

from __future__ import annotations

import ssl
from typing import Any

import redis

from dockfleet.settings import Settings


def tls_options(settings: Settings) -> dict[str, Any] | None:
    """Certificate checks for a ``rediss://`` URL (None for plain ``redis://``)."""
    if not settings.redis_url.startswith("rediss://"):
        return None
    options: dict[str, Any] = {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    if settings.redis_tls_ca:
        options["ssl_ca_certs"] = settings.redis_tls_ca
    return options


def connect(settings: Settings, *, text: bool = True) -> redis.Redis:
    """A client for the fleet's Redis; `text` decodes replies to str (binary values: False)."""
    return redis.Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=5,
        health_check_interval=30,
        decode_responses=text,
        **(tls_options(settings) or {}),
    )
