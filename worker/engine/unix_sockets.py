"""Plain HTTP/1.1 calls to the engine's unix socket: a small pool of kept-alive
connections for whole answers (`UnixSocketCalls.call`), a connection of its own for a
body read as it comes (`open_stream`, `StreamBody`), each answer made the
`requests.Response` docker-py reads, and each failure the error requests raises.

The light path's transport (`worker.engine.unix_transport.LightAPIClient` sends its calls
here); `worker.engine.http11` writes the requests and reads the answers.
"""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Iterator
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from worker.engine import http11

#: calls sent again once when a kept-alive socket turns out closed (they change nothing)
IDEMPOTENT = frozenset({"GET", "HEAD"})
#: idle connections kept per socket; more threads than this open and close their own
MAX_IDLE = 16


class UnixConnection:
    """One kept-alive connection to the engine's socket."""

    def __init__(self, socket_path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(socket_path)
        except OSError:
            self.sock.close()
            raise
        self.stream = self.sock.makefile("rb")

    def exchange(
        self, method: str, target: str, headers: dict[str, str], body: bytes | None,
        timeout: float | None,
    ) -> http11.Answer:  # fmt: skip
        self.sock.settimeout(timeout)
        self.sock.sendall(http11.request_bytes(method, target, headers, body))
        return http11.read_answer(self.stream, method)

    def dropped(self) -> bool:
        """An idle kept-alive socket that reads as ready was closed by the engine (or holds
        bytes nobody asked for): either way it cannot carry the next call."""
        return bool(select.select([self.sock], [], [], 0)[0])

    def close(self) -> None:
        self.stream.close()
        self.sock.close()


class UnixSocketCalls:
    """Plain HTTP/1.1 calls to one unix socket over a small pool of kept-alive connections,
    safe to share between threads (each connection serves one call at a time)."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self._idle: list[UnixConnection] = []
        self._lock = threading.Lock()

    def call(
        self,
        method: str,
        url: str,
        target: str,
        body: bytes | None,
        headers: dict[str, str],
        timeout: float | None,
    ) -> http11.Answer:
        """Send one request for `target` (path and query) and read its whole answer
        (`whole_response` makes it the `requests.Response` of `url` docker-py reads);
        errors as requests raises them."""
        conn: UnixConnection | None = None
        try:
            conn, reused = self._take()
            try:
                answer = conn.exchange(method, target, headers, body, timeout)
            except (OSError, http11.BadAnswer) as first:
                # The engine may close a kept-alive socket just as a call goes out on
                # it (a restart, an idle timeout): a call that changes nothing is sent
                # again once on a new socket; one that does is the caller's to retry.
                if not reused or method not in IDEMPOTENT or isinstance(first, TimeoutError):
                    raise
                conn.close()
                conn = UnixConnection(self.socket_path)
                answer = conn.exchange(method, target, headers, body, timeout)
        except (OSError, http11.BadAnswer) as exc:
            raise requests_error(url, exc, conn) from exc
        if answer.head.keep_alive:
            self._give_back(conn)
        else:
            conn.close()
        return answer

    def open_stream(
        self, method: str, url: str, target: str, headers: dict[str, str], timeout: float | None
    ) -> requests.Response:
        """Send one request and read its head: the `requests.Response` of `url` whose `raw`
        reads the body as it comes, on a connection of its own (closed at the body's end)."""
        conn: UnixConnection | None = None
        try:
            conn = UnixConnection(self.socket_path)
            conn.sock.settimeout(timeout)
            conn.sock.sendall(http11.request_bytes(method, target, headers, None))
            head = http11.read_head(conn.stream, method)
        except (OSError, http11.BadAnswer) as exc:
            raise requests_error(url, exc, conn) from exc
        response = _response(url, head)
        response._content = False  # type: ignore[assignment]  # read from `raw`, as requests does
        response.raw = StreamBody(conn, http11.Body(conn.stream, head), url)
        return response

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _take(self) -> tuple[UnixConnection, bool]:
        """A connection, and whether it carried a call before."""
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return UnixConnection(self.socket_path), False
            if not conn.dropped():
                return conn, True
            conn.close()

    def _give_back(self, conn: UnixConnection) -> None:
        with self._lock:
            if len(self._idle) < MAX_IDLE:
                self._idle.append(conn)
                return
        conn.close()


class StreamBody:
    """The `raw` of a streamed answer: its body as it arrives. `close` may come from another
    thread: it ends a read that waits (the socket is shut down), and that read ends the
    body, as a closed urllib3 response does."""

    def __init__(self, conn: UnixConnection, body: http11.Body, url: str) -> None:
        self._conn = conn
        self._body = body
        self._url = url
        self.closed = False

    def read1(self, size: int = 65536) -> bytes:
        """What has arrived, up to `size` bytes (one at least); b"" at the end."""
        return self._read(self._body.read1, size)

    def read(self, size: int | None = -1, **_: Any) -> bytes:
        """`size` bytes (all if None or negative), fewer only at the end."""
        return self._read(self._body.read, -1 if size is None else size)

    def chunks(self) -> Iterator[bytes]:
        while data := self.read1():
            yield data

    def settimeout(self, timeout: float | None) -> None:
        self._conn.sock.settimeout(timeout)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self._conn.sock.shutdown(socket.SHUT_RDWR)  # wakes a read waiting in another thread
        except OSError:
            pass  # not connected any more
        self._conn.close()

    def _read(self, read: Any, size: int) -> bytes:
        if self.closed:
            return b""
        try:
            data: bytes = read(size)
        except (OSError, ValueError, http11.BadAnswer) as exc:
            if self.closed:  # `close` cut it short: the body ends here
                return b""
            self.close()
            raise requests_error(self._url, exc, None) from exc
        if self._body.done:
            self.close()
        return data


def whole_response(url: str, answer: http11.Answer) -> requests.Response:
    """A whole answer as the `requests.Response` of `url` requests' adapter would build."""
    response = _response(url, answer.head)
    response._content = answer.body
    return response


def _response(url: str, head: http11.Head) -> requests.Response:
    """The `requests.Response` requests' own adapter would have built for this answer
    (its body still to set)."""
    response = requests.Response()
    response.status_code = head.status
    response.reason = head.reason
    response.headers = CaseInsensitiveDict(head.headers)
    response.encoding = get_encoding_from_headers(response.headers)
    response.url = url
    return response


def requests_error(
    url: str, exc: Exception, conn: UnixConnection | None
) -> requests.exceptions.RequestException:
    """`exc` of a call to `url` as requests raises it; `conn` cannot carry another call."""
    if conn is not None:
        conn.close()
    if isinstance(exc, TimeoutError):
        return requests.exceptions.ReadTimeout(f"{url}: {exc}")
    return requests.exceptions.ConnectionError(f"{url}: {exc!r}")
