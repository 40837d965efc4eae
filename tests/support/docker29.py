"""A stand-in for a Docker Engine 29 API: version negotiation and `GET /containers/json` only.

It answers as moby's ``VersionMiddleware`` and ``/_ping`` handler do on Docker 29
(API 1.52, minimum API 1.44): a path without a ``/vX.Y`` prefix is served at the
engine's own version, which is how a client asks (``/_ping``, ``/version``); a
path under ``/vX.Y/`` below 1.44 gets HTTP 400 with the JSON message "client
version X.Y is too old. Minimum supported API version is 1.44, please upgrade
your client to a newer version", above 1.52 "... is too new. Maximum supported
API version is 1.52". Every answer carries the middleware's ``Server``,
``Api-Version`` and ``Ostype`` headers; ``/_ping`` adds ``Docker-Experimental``,
``Builder-Version``, ``Swarm`` and the no-cache headers, as the engine does. An
unknown route is a 404 ``{"message": "page not found"}``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_VERSION = "1.52"
MIN_API_VERSION = "1.44"
ENGINE_VERSION = "29.0.0"
CONTAINER_ID = "4f1b2c3d" * 8

_VERSIONED = re.compile(r"^/v(\d+)\.(\d+)(/.*)$")

VERSION_DOC: dict[str, Any] = {
    "Platform": {"Name": "Docker Engine - Community"},
    "Components": [{"Name": "Engine", "Version": ENGINE_VERSION, "Details": {}}],
    "Version": ENGINE_VERSION,
    "ApiVersion": API_VERSION,
    "MinAPIVersion": MIN_API_VERSION,
    "GitCommit": "d260a54",
    "GoVersion": "go1.24.9",
    "Os": "linux",
    "Arch": "amd64",
    "KernelVersion": "6.8.0-86-generic",
    "BuildTime": "2025-11-10T12:00:00.000000000+00:00",
}

CONTAINERS: list[dict[str, Any]] = [
    {
        "Id": CONTAINER_ID,
        "Names": ["/ci-db"],
        "Image": "postgres:16",
        "ImageID": "sha256:" + "ab" * 32,
        "Command": "docker-entrypoint.sh postgres",
        "Created": 1762776000,
        "Ports": [{"PrivatePort": 5432, "Type": "tcp"}],
        "Labels": {"dockfleet.managed": "true"},
        "State": "running",
        "Status": "Up 3 minutes",
        "HostConfig": {"NetworkMode": "bridge"},
        "NetworkSettings": {"Networks": {"bridge": {"IPAddress": "172.17.0.2"}}},
        "Mounts": [],
    }
]


def _older(version: str, than: str) -> bool:
    return tuple(map(int, version.split("."))) < tuple(map(int, than.split(".")))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the engine (docker-py pools connections)
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        self._answer()

    def do_HEAD(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def _answer(self) -> None:
        path = self.path.split("?", 1)[0]
        self.server.requests.append((self.command, path))
        versioned = _VERSIONED.match(path)
        if versioned:
            asked = f"{versioned.group(1)}.{versioned.group(2)}"
            if _older(asked, MIN_API_VERSION):
                return self._error(
                    400,
                    f"client version {asked} is too old. Minimum supported API version is "
                    f"{MIN_API_VERSION}, please upgrade your client to a newer version",
                )
            if _older(API_VERSION, asked):
                return self._error(
                    400,
                    f"client version {asked} is too new. Maximum supported API version is "
                    f"{API_VERSION}",
                )
            path = versioned.group(3)
        if path == "/_ping":
            return self._send(200, b"OK", "text/plain; charset=utf-8", ping=True)
        if path == "/version" and self.command == "GET":
            return self._json(200, VERSION_DOC)
        if path == "/containers/json" and self.command == "GET":
            return self._json(200, CONTAINERS)
        return self._error(404, "page not found")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"message": message})

    def _json(self, status: int, doc: object) -> None:
        self._send(status, (json.dumps(doc) + "\n").encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str, ping: bool = False) -> None:
        self.send_response(status)
        self.send_header("Server", f"Docker/{ENGINE_VERSION} (linux)")
        self.send_header("Api-Version", API_VERSION)
        self.send_header("Ostype", "linux")
        if ping:
            self.send_header("Builder-Version", "2")
            self.send_header("Cache-Control", "no-cache, no-store, must-revalidate")
            self.send_header("Docker-Experimental", "false")
            self.send_header("Pragma", "no-cache")
            self.send_header("Swarm", "inactive")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        #: (method, path) of every request, in order
        self.requests: list[tuple[str, str]] = []


class Docker29:
    """The running stand-in: its ``tcp://`` URL and the requests it got."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        self.url = f"tcp://127.0.0.1:{server.server_address[1]}"

    @property
    def requests(self) -> list[tuple[str, str]]:
        return list(self._server.requests)

    def count(self, method: str, path: str) -> int:
        return self.requests.count((method, path))


@contextmanager
def docker29() -> Iterator[Docker29]:
    """A Docker 29 stand-in on a free port of 127.0.0.1, stopped on the way out."""
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, name="docker29", daemon=True)
    thread.start()
    try:
        yield Docker29(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
