"""One HTTP/1.1 request and its whole answer on a kept-alive socket: what the engine's
non-streaming API calls need, and nothing more.

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


@dataclass(slots=True)
class Answer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    #: the server keeps the connection open for the next request
    keep_alive: bool


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
    while True:
        version, status, reason = _status_line(stream)
        headers = _header_lines(stream)
        if not 100 <= status < 200 or status == 101:
            break  # an interim "100 Continue" is followed by the real answer
    fields = {name.lower(): value for name, value in headers}
    keep_alive = version == "HTTP/1.1" and fields.get("connection", "").lower() != "close"
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        body = b""
    elif "chunked" in fields.get("transfer-encoding", "").lower():
        body = _chunked_body(stream)
    elif "content-length" in fields:
        body = _exactly(stream, _length(fields["content-length"]))
    else:  # sized by the end of the connection
        body = stream.read()
        keep_alive = False
    return Answer(status, reason, headers, body, keep_alive)


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


def _chunked_body(stream: io.BufferedReader) -> bytes:
    parts: list[bytes] = []
    while size := _length(_line(stream).partition(";")[0], base=16):
        parts.append(_exactly(stream, size))
        if _line(stream):
            raise BadAnswer("a chunk is not followed by its line end")
    while _line(stream):  # trailers, if any, end with an empty line
        pass
    return b"".join(parts)


def _line(stream: io.BufferedReader) -> str:
    raw = stream.readline(MAX_LINE + 1)
    if not raw.endswith(b"\n"):
        raise BadAnswer("the connection closed in the middle of an answer" if len(raw) <= MAX_LINE
                        else "a line of the answer is too long")  # fmt: skip
    return raw.rstrip(b"\r\n").decode("latin-1")


def _exactly(stream: io.BufferedReader, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise BadAnswer(f"the connection closed after {len(data)} of {size} body bytes")
    return data


def _length(text: str, base: int = 10) -> int:
    try:
        value = int(text.strip(), base)
    except ValueError:
        raise BadAnswer(f"not a length: {text[:40]!r}") from None
    if value < 0:
        raise BadAnswer(f"a negative length: {value}")
    return value
