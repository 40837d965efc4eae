"""One HTTP/1.1 request and its answer on a kept-alive socket: what the engine's API calls
need, and nothing more. A non-streaming call reads its answer whole (`read_answer`); a
stream (a log follow, the event stream) reads its head, then its `Body` as it comes.

`http.client` spends most of its time per call parsing the answer's headers
with the `email` package (~0.15 ms of CPU for a dozen header lines); the
engine's Go server answers every call the same plain way: a status line,
``Name: value`` lines, then a body sized by ``Content-Length`` or sent
``chunked`` (what Go does with a body over 4 KiB, e.g. a container's
inspect), or none (204, 304, 1xx, HEAD). Anything else is a protocol error
(`BadAnswer`), and the connection is dropped.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

#: the longest status or header line read; the engine's are far shorter
MAX_LINE = 65536
#: header lines read at most; the engine sends about ten
MAX_HEADERS = 100


class BadAnswer(Exception):
    """The peer's answer is not HTTP/1.1 as the engine speaks it."""


def request_bytes(method: str, target: str, headers: dict[str, str], body: bytes | None) -> bytes:
    """The request as it goes on the wire (``Host`` and ``Content-Length`` added)."""
    lines = [f"{method} {target} HTTP/1.1", "Host: docker"]
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body or b'')}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def read_answer(stream: io.BufferedReader, method: str) -> Answer:
    """Read one whole answer from `stream`.

    Raises:
        BadAnswer: not HTTP/1.1 as expected, or the peer closed the connection early.
    """
    head = read_head(stream, method)
    return Answer(head, Body(stream, head).read())


@dataclass(slots=True)
class Head:
    """An answer's status and headers, and how its body is framed."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    #: "none", "chunked", "length" (`length` bytes) or "close" (until the connection ends)
    framing: str
    length: int
    #: the server keeps the connection open for the next request
    keep_alive: bool


@dataclass(slots=True)
class Answer:
    head: Head
    body: bytes


def read_head(stream: io.BufferedReader, method: str) -> Head:
    """Read an answer's status line and headers (an interim "100 Continue" skipped).

    Raises:
        BadAnswer: not HTTP/1.1 as expected, or the peer closed the connection early.
    """
    while True:
        version, status, reason = _status_line(stream)
        headers = _header_lines(stream)
        if not 100 <= status < 200 or status == 101:
            break  # an interim "100 Continue" is followed by the real answer
    fields = {name.lower(): value for name, value in headers}
    keep_alive = version == "HTTP/1.1" and fields.get("connection", "").lower() != "close"
    framing, length = "close", 0
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        framing = "none"
    elif "chunked" in fields.get("transfer-encoding", "").lower():
        framing = "chunked"
    elif "content-length" in fields:
        framing, length = "length", _length(fields["content-length"])
    else:  # sized by the end of the connection
        keep_alive = False
    return Head(status, reason, headers, framing, length, keep_alive)


class Body:
    """An answer's body read as it comes (a stream: a log follow, the event stream), or whole.

    ``read1`` hands over what the peer sent so far (at least one byte, b"" at the end),
    so a line of a followed log goes on as soon as its chunk arrives.
    """

    def __init__(self, stream: io.BufferedReader, head: Head) -> None:
        self._stream = stream
        self._framing = head.framing
        #: bytes left in the current chunk (or the sized body); -1: the chunked body's start
        self._left = head.length if head.framing == "length" else -1
        self.done = head.framing == "none" or (head.framing == "length" and not head.length)
        self.keep_alive = head.keep_alive

    def read1(self, limit: int = 65536) -> bytes:
        """Up to `limit` bytes of what has arrived (waiting for one at least); b"" at the end.

        Raises:
            BadAnswer: the peer closed the connection early, or broke the chunked framing.
        """
        if self.done:
            return b""
        if self._framing == "close":
            data = self._stream.read1(limit)
            self.done = not data
            return data
        if self._framing == "chunked" and self._left <= 0 and not self._next_chunk():
            return b""
        data = self._stream.read1(min(limit, self._left))
        if not data:
            raise BadAnswer(f"the connection closed with {self._left} body bytes to come")
        self._left -= len(data)
        if self._framing == "length" and not self._left:
            self.done = True
        return data

    def read(self, size: int = -1) -> bytes:
        """`size` bytes (all of the body if negative), fewer only at its end."""
        parts: list[bytes] = []
        wanted = size
        while wanted and (data := self.read1(wanted if wanted > 0 else 65536)):
            parts.append(data)
            wanted = max(wanted - len(data), 0) if wanted > 0 else wanted
        return b"".join(parts)

    def _next_chunk(self) -> bool:
        """Move to the next chunk; False (and done) at the last one."""
        if self._left == 0 and _line(self._stream):
            raise BadAnswer("a chunk is not followed by its line end")
        self._left = _length(_line(self._stream).partition(";")[0], base=16)
        if self._left:
            return True
        while _line(self._stream):  # trailers, if any, end with an empty line
            pass
        self.done = True
        return False


def _status_line(stream: io.BufferedReader) -> tuple[str, int, str]:
    line = _line(stream)
    version, _, rest = line.partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/1.") or not code.isdigit():
        raise BadAnswer(f"not an HTTP/1.x status line: {line[:80]!r}")
    return version, int(code), reason


def _header_lines(stream: io.BufferedReader) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    while line := _line(stream):
        name, colon, value = line.partition(":")
        if not colon or len(headers) >= MAX_HEADERS:
            raise BadAnswer(f"not a header line: {line[:80]!r}")
        headers.append((name.strip(), value.strip()))
    return headers


def _line(stream: io.BufferedReader) -> str:
    raw = stream.readline(MAX_LINE + 1)
    if not raw.endswith(b"\n"):
        raise BadAnswer("the connection closed in the middle of an answer" if len(raw) <= MAX_LINE
                        else "a line of the answer is too long")  # fmt: skip
    return raw.rstrip(b"\r\n").decode("latin-1")


def _length(text: str, base: int = 10) -> int:
    try:
        value = int(text.strip(), base)
    except ValueError:
        raise BadAnswer(f"not a length: {text[:40]!r}") from None
    if value < 0:
        raise BadAnswer(f"a negative length: {value}")
    return value
