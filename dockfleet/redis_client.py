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
    # The hostname check is explicit: redis-py before 6.0 left it off by default.
    options: dict[str, Any] = {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_check_hostname": True}
    if settings.redis_tls_ca:
        options["ssl_ca_certs"] = settings.redis_tls_ca
    return options


#: seconds to open a connection, its handshake (HELLO, AUTH) included
CONNECT_TIMEOUT = 5.0
#: seconds a producer (the client, the CLI) waits for any answer of Redis: far above its
#: longest blocking read (XREAD BLOCK of 1 s), and the handshake's own limit, so that a
#: hung Redis fails a call after this long at whichever step it hangs
ANSWER_TIMEOUT = CONNECT_TIMEOUT


def connect(settings: Settings, *, text: bool = True, timeout: float | None = None) -> redis.Redis:
    """A client for the fleet's Redis; `text` decodes replies to str (binary values: False).

    Args:
        timeout: seconds a command may wait for its answer (None: no limit), so that a
            Redis that took the connection and hung fails the call instead of hanging it.
            It must be longer than any blocking read made with the client (XREAD BLOCK).
    """
    return redis.Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=timeout,
        health_check_interval=30,
        decode_responses=text,
        **(tls_options(settings) or {}),
    )


def connect_url(url: str, *, timeout: float, answer_timeout: float | None = None) -> redis.Redis:
    """A bare client of `url` (bytes, no TLS options): `dockfleet up` asking whether a
    Redis it may start, or has started, answers."""
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=answer_timeout)
