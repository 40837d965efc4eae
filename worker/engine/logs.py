"""Logs adapter: a container's output as (stream, line, timestamp) with stdout and stderr apart,
secret values masked.

docker-py's ``logs()`` merges stdout and stderr; this reads the multiplexed
frames itself so each line keeps its stream. The reader can be closed from
another thread, which is how a follow is stopped when its reader goes away.

The engine's log drivers cut a line longer than 16 KiB into partial messages,
each with its own timestamp. Without a TTY each message is its own frame and
the frames of one line are joined here; with a TTY the output is one byte
stream, so a message ends at a newline or after exactly `PARTIAL_BYTES`, and
the next one starts with its timestamp. Lines are whole before they are masked,
so a secret across a cut is masked too.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import docker

from dockfleet.models import LogOptions
from worker.engine.errors import raise_translated
from worker.engine.objects import ContainerState, container_state
from worker.engine.unix_transport import get_stream
from worker.ops.masking import SecretMask

FRAME_HEADER = struct.Struct(">BxxxL")
STREAMS = {0: "stdout", 1: "stdout", 2: "stderr"}
#: the size of a partial log message (moby's logger.Copier buffer)
PARTIAL_BYTES = 16 * 1024
#: a timestamp prefix is at most this long ("2024-05-01T12:34:56.123456789+00:00 ")
STAMP_BYTES = 40
Line = tuple[str, str, datetime | None]


class LogReader:
    """An open ``GET /containers/{id}/logs`` response, iterable as masked lines."""

    def __init__(
        self,
        client: docker.DockerClient,
        container: ContainerState | dict[str, Any],
        opts: LogOptions,
        secrets: Iterable[str] | None = None,
    ):
        """`secrets`: the values to mask; by default those `container` marks secret (its env
        and ``dockfleet.secret-env`` label).

        `container` as an inspect document is read as a `ContainerState` (the job runner
        passes one until it inspects with `containers.inspect_state`).
        """
        # docker-py's public logs() merges stdout and stderr; its private request
        # helpers are the documented way the SDK itself streams attach/logs.
        api: Any = client.api
        params: dict[str, Any] = {
            "stdout": int(opts.show_stdout),
            "stderr": int(opts.show_stderr),
            "follow": int(opts.follow),
            "timestamps": 1,  # always: callers get a timestamp per line
            "tail": "all" if opts.tail is None else opts.tail,
        }
        if opts.since is not None:
            params["since"] = opts.since.timestamp()
        state = container if isinstance(container, ContainerState) else container_state(container)
        self._client = client
        self._tty = state.tty
        self._mask = SecretMask(state.secret_values if secrets is None else secrets)
        try:
            url = api._url("/containers/{0}/logs", state.id)
            light = get_stream(api, url, params, follow=opts.follow)
            if light is not None:
                self._response = light
            else:
                self._response = api._get(url, params=params, stream=True)
                api._raise_for_status(self._response)
                if opts.follow:
                    # A followed container may be silent for longer than the client's timeout.
                    api._disable_socket_timeout(api._get_raw_response_socket(self._response))
        except Exception as exc:
            raise_translated(exc, client)
        self._closed = False

    def close(self) -> None:
        """Stop reading (safe from another thread): the iteration then ends."""
        self._closed = True
        self._response.close()

    def lines(self) -> Iterator[Line]:
        splitter = TtySplitter() if self._tty else FrameSplitter()
        try:
            for stream, chunk in self._frames():
                for stream_name, text, stamp in splitter.feed(stream, chunk):
                    yield stream_name, self._mask(text), stamp
        except (OSError, AttributeError, ValueError) as exc:
            if not self._closed:  # else: `close` cut the response short
                raise_translated(exc, self._client)
        except Exception as exc:
            raise_translated(exc, self._client)
        for stream_name, text, stamp in splitter.rest():
            yield stream_name, self._mask(text), stamp

    def _frames(self) -> Iterator[tuple[str, bytes]]:
        raw = self._response.raw
        if self._tty:
            # A TTY container's output is not framed: one stream, as it comes.
            while chunk := raw.read1(65536) if hasattr(raw, "read1") else raw.read(4096):
                yield "stdout", chunk
            return
        while not self._closed:
            header = raw.read(FRAME_HEADER.size)
            if len(header) < FRAME_HEADER.size:
                return
            stream_id, length = FRAME_HEADER.unpack(header)
            data = raw.read(length) if length else b""
            yield STREAMS.get(stream_id, "stdout"), data


class FrameSplitter:
    """Lines of a framed (multiplexed) log: one message a frame, its timestamp first."""

    def __init__(self) -> None:
        self._buffers: dict[str, bytes] = {"stdout": b"", "stderr": b""}
        self._stamps: dict[str, datetime | None] = {"stdout": None, "stderr": None}

    def feed(self, stream: str, frame: bytes) -> Iterator[Line]:
        stamp, data = _split_timestamp(frame)
        if stamp is not None and not self._buffers[stream]:
            self._stamps[stream] = stamp  # a line's time is that of its first part
        self._buffers[stream] += data
        while b"\n" in self._buffers[stream]:
            line, self._buffers[stream] = self._buffers[stream].split(b"\n", 1)
            yield stream, _text(line), self._stamps[stream]

    def rest(self) -> Iterator[Line]:
        for stream, rest in self._buffers.items():
            if rest:
                yield stream, _text(rest), self._stamps[stream]


class TtySplitter:
    """Lines of a TTY log: one byte stream of messages, each ``<timestamp> <text>`` that
    ends at a newline or, cut from a longer line, after `PARTIAL_BYTES`."""

    def __init__(self) -> None:
        self._pending = b""  # received, not yet parsed
        self._line = b""  # the line so far (its earlier partial messages)
        self._stamp: datetime | None = None
        self._in_message = -1  # bytes of the current message's text; -1: a stamp comes next

    def feed(self, stream: str, chunk: bytes) -> Iterator[Line]:
        self._pending += chunk
        while self._pending:
            if self._in_message < 0:
                if not self._take_stamp():
                    return  # the stamp is not all here yet
                continue
            room = PARTIAL_BYTES - self._in_message
            end = self._pending.find(b"\n", 0, room)
            if end >= 0:
                self._line += self._pending[:end]
                self._pending = self._pending[end + 1 :]
                self._in_message = -1
                yield "stdout", _text(self._line), self._stamp
                self._line = b""
                continue
            part = self._pending[:room]
            self._line += part
            self._pending = self._pending[len(part) :]
            self._in_message += len(part)
            if self._in_message == PARTIAL_BYTES:
                self._in_message = -1  # a partial message: the line goes on after a stamp

    def _take_stamp(self) -> bool:
        space = self._pending.find(b" ", 0, STAMP_BYTES)
        if space < 0 and len(self._pending) < STAMP_BYTES:
            return False
        stamp, rest = _split_timestamp(self._pending) if space >= 0 else (None, self._pending)
        if stamp is not None and not self._line:
            self._stamp = stamp
        self._pending = rest
        self._in_message = 0
        return True

    def rest(self) -> Iterator[Line]:
        tail = self._line + self._pending
        if tail:
            yield "stdout", _text(tail), self._stamp


def _split_timestamp(chunk: bytes) -> tuple[datetime | None, bytes]:
    head, sep, rest = chunk.partition(b" ")
    if not sep or len(head) < 20 or head[4:5] != b"-":
        return None, chunk
    text = head.decode("ascii", "replace")
    main, dot, frac = text.rstrip("Z").partition(".")
    try:
        stamp = datetime.fromisoformat(f"{main}.{frac[:6].ljust(6, '0')}+00:00" if dot else main)
    except ValueError:
        return None, chunk
    return stamp, rest


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace").rstrip("\r")
