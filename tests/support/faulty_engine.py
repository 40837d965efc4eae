"""A Docker engine that fails on cue: a proxy to the real engine's socket that answers
the first container creates itself with the engine's 503, and can hold one back (then
pass it on, or drop it).

A worker bound to it (``unix://<socket>``) does everything for real, on the real
engine, except for those creates: the way to make a task meet a transient error
(`EngineBusy`) and retry, with no fault written into the worker. Requests are read
one at a time (docker-py does not pipeline); responses stream straight back, so
log follows and event streams work as they do on the engine.
"""

from __future__ import annotations

import re
import socket
import socketserver
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

CREATE = re.compile(r"^POST (/v[\d.]+)?/containers/create(\?|$)")
BUSY = b'{"message": "the engine is busy (dockfleet test fault)"}\n'


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        upstream: socket.socket | None = None
        try:
            while (head := _read_head(self.rfile)) is not None:
                body = _read_body(self.rfile, head)
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                is_create = bool(CREATE.match(line.rsplit(" ", 1)[0]))
                if is_create and self.server.take_fault():
                    self._busy()
                    return
                if is_create and self.server.hold_next.is_set():
                    self.server.hold_next.clear()
                    self.server.holding.set()
                    self.server.release.wait(60)
                    if self.server.drop_held:
                        return  # as if the engine never got it: the connection just closes
                if upstream is None:
                    upstream = socket.socket(socket.AF_UNIX)
                    upstream.connect(self.server.upstream)
                    threading.Thread(target=self._pump, args=(upstream,), daemon=True).start()
                upstream.sendall(head + body)
                if b"\r\nupgrade:" in head.lower():
                    # A hijacked connection (attach): raw bytes both ways from here.
                    while chunk := self.rfile.read1(65536):
                        upstream.sendall(chunk)
                    return
        except OSError:
            return
        finally:
            if upstream is not None:
                upstream.close()

    def _busy(self) -> None:
        self.wfile.write(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(BUSY)}\r\nConnection: close\r\n\r\n".encode()
            + BUSY
        )
        self.wfile.flush()

    def _pump(self, upstream: socket.socket) -> None:
        try:
            while chunk := upstream.recv(65536):
                self.connection.sendall(chunk)
        except OSError:
            pass
        finally:
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _read_head(stream: BinaryIO) -> bytes | None:
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = stream.readline()
        if not line:
            return None
        head += line
    return head


def _read_body(stream: BinaryIO, head: bytes) -> bytes:
    """The request's body as it came (Content-Length, or chunked and left chunked)."""
    lower = head.lower()
    length = re.search(rb"\r\ncontent-length:\s*(\d+)", lower)
    if length:
        return stream.read(int(length.group(1)))
    if b"\r\ntransfer-encoding: chunked" not in lower:
        return b""
    body = b""
    while True:
        size_line = stream.readline()
        body += size_line
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        body += stream.read(size + 2)  # the chunk and its CRLF
        if size == 0:
            return body


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, upstream: str, faults: int) -> None:
        super().__init__(path, _Handler)
        self.upstream = upstream
        self.faults = faults
        self.failed = 0
        self.hold_next = threading.Event()
        self.holding = threading.Event()
        self.release = threading.Event()
        self.drop_held = False
        self._lock = threading.Lock()

    def take_fault(self) -> bool:
        with self._lock:
            if self.failed >= self.faults:
                return False
            self.failed += 1
            return True


class FaultyEngine:
    """The running proxy: its ``unix://`` URL, and the creates it failed or holds."""

    def __init__(self, server: _Server, path: str) -> None:
        self._server = server
        self.url = f"unix://{path}"

    @property
    def failed(self) -> int:
        """Creates answered with a 503 so far."""
        return self._server.failed

    def hold_next_create(self) -> None:
        """Keep the next create that gets through waiting until `release` (its task is then
        active on the worker for as long as the test looks)."""
        self._server.hold_next.set()

    def wait_holding(self, timeout: float) -> bool:
        return self._server.holding.wait(timeout)

    def release(self) -> None:
        self._server.release.set()

    def drop(self) -> None:
        """Let go of the held create without passing it on (its worker is gone, say)."""
        self._server.drop_held = True
        self._server.release.set()


@contextmanager
def faulty_engine(upstream: str, faults: int = 1) -> Iterator[FaultyEngine]:
    """A proxy to the engine at `upstream` (``unix://`` URL) whose first `faults` container
    creates get HTTP 503; stopped on the way out."""
    folder = tempfile.mkdtemp(prefix="dockfleet-faulty-engine-")
    path = str(Path(folder) / "docker.sock")
    server = _Server(path, upstream.removeprefix("unix://"), faults)
    thread = threading.Thread(target=server.serve_forever, name="faulty-engine", daemon=True)
    thread.start()
    engine = FaultyEngine(server, path)
    try:
        yield engine
    finally:
        engine.release()
        server.shutdown()
        server.server_close()
        thread.join(5)
        Path(path).unlink(missing_ok=True)
        Path(folder).rmdir()
