"""Logs adapter: a container's output as (stream, line, timestamp) with stdout and stderr apart.

docker-py's ``logs()`` merges stdout and stderr; this reads the multiplexed
frames itself so each line keeps its stream. The reader can be closed from
another thread, which is how a follow is stopped when its reader goes away.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import docker

from dockfleet.models import LogOptions

FRAME_HEADER = struct.Struct(">BxxxL")
STREAMS = {0: "stdout", 1: "stdout", 2: "stderr"}


class LogReader:
    """An open ``GET /containers/{id}/logs`` response, iterable as lines."""

    def __init__(self, client: docker.DockerClient, container: dict[str, Any], opts: LogOptions):
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
        self._tty = bool((container.get("Config") or {}).get("Tty"))
        self._response = api._get(
            api._url("/containers/{0}/logs", container["Id"]), params=params, stream=True
        )
        api._raise_for_status(self._response)
        if opts.follow:
            # A followed container may be silent for longer than the client's timeout.
            api._disable_socket_timeout(api._get_raw_response_socket(self._response))
        self._closed = False

    def close(self) -> None:
        """Stop reading (safe from another thread): the iteration then ends."""
        self._closed = True
        self._response.close()

    def lines(self) -> Iterator[tuple[str, str, datetime | None]]:
        buffers: dict[str, bytes] = {"stdout": b"", "stderr": b""}
        stamps: dict[str, datetime | None] = {"stdout": None, "stderr": None}
        try:
            for stream, chunk in self._frames():
                stamp, data = _split_timestamp(chunk)
                if stamp is not None and not buffers[stream]:
                    stamps[stream] = stamp
                buffers[stream] += data
                while b"\n" in buffers[stream]:
                    line, buffers[stream] = buffers[stream].split(b"\n", 1)
                    yield stream, _text(line), stamps[stream]
        except (OSError, AttributeError, ValueError):
            if not self._closed:
                raise
        for stream, rest in buffers.items():
            if rest:
                yield stream, _text(rest), stamps[stream]

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
