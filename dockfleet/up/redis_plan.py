"""Which Redis `dockfleet up` uses: the configured one, or a local redis-server it starts.

- A configured URL (``--redis-url`` or ``DOCKFLEET_REDIS_URL``) that answers is reused.
- A configured loopback URL that does not answer gets a redis-server on that port, with
  the URL's password (a URL without one is refused: `up` never starts an open Redis).
- A configured remote URL that does not answer is an error: starting a private
  Redis instead would split the fleet without anyone noticing.
- With nothing configured, a private redis-server on a loopback port (the last
  one used, if free) with a generated password and its data in the state folder.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from dockfleet.client.transport import safe_url
from dockfleet.redis_client import connect_url
from dockfleet.store.redis_types import AuthRefused, ConnectionLost, ErrorReply
from dockfleet.up import UpError
from dockfleet.up.state import StateDir

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class RedisPlan:
    url: str
    #: whether `up` starts (and later stops) a redis-server for it
    start: bool
    port: int = 0
    password: str | None = None


def plan_redis(configured_url: str | None, state: StateDir) -> RedisPlan:
    if configured_url:
        problem = _probe(configured_url)
        if problem is None:
            return RedisPlan(configured_url, start=False)
        parts = urlsplit(configured_url)
        if (
            problem != "refused"
            or parts.hostname not in LOOPBACK
            or configured_url.startswith("unix://")
        ):
            raise UpError(
                f"the configured Redis {safe_url(configured_url)} cannot be used ({problem}); "
                "start it, or unset DOCKFLEET_REDIS_URL and `dockfleet up` starts its own"
            )
        if not parts.password:
            raise UpError(
                f"the configured Redis {safe_url(configured_url)} does not answer, and `up` "
                "starts a Redis only with a password: put one in the URL "
                "(redis://:PASSWORD@host:port/0), or unset DOCKFLEET_REDIS_URL and `up` "
                "starts its own with a generated one"
            )
        port = parts.port or 6379
        return RedisPlan(configured_url, start=True, port=port, password=parts.password)
    password = state.redis_password()
    port = state.redis_port(default=0)
    if port == 0 or not port_free(port):
        port = free_port()
    state.remember_redis_port(port)
    return RedisPlan(f"redis://:{password}@127.0.0.1:{port}/0", True, port, password)


def _probe(url: str) -> str | None:
    """None if Redis at `url` answers; else why not ("refused" when nothing listens)."""
    client = connect_url(url, timeout=2, answer_timeout=2)
    try:
        client.ping()
        return None
    except AuthRefused:
        return "it refused the password"
    except ErrorReply as exc:
        return f"it answered: {exc}"
    except ConnectionLost as exc:
        return "refused" if "refused" in str(exc).lower() else str(exc)
    finally:
        client.close()


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
