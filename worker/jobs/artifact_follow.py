"""A fetch of a job's artifacts that follows their copy while it is still being written.

An attached client asks for the artifacts as soon as the job's container exits
(`dockfleet.client.artifacts`); the copy out of the container then runs at the same time
as the download instead of before it, which is what ``docker cp`` does in one stream.
While the copy runs, its record (`dockfleet.store.artifacts.copying`) names the part file;
the fetch opens that file and sends what is in it, then what is added, until the copy's
whole tar is recorded (the rename keeps the file, so the open file is that tar).

What a follower never does is pass off a part as whole: it ends only when the record of
the complete tar names the very file it has open (same inode), and reads it to its end.
A copy that stops (a member refused, the worker killed) or is begun again by an adopter
ends the follow with `CopyStopped`; the client then waits for the job's result and
fetches the stored tar, if any (or reports none).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

from dockfleet.redis_retry import retrying
from dockfleet.store import artifacts as artifact_records
from dockfleet.store.redis_types import Client

#: seconds between looks at the copy when the follower has sent all of it so far
POLL_SECONDS = 0.02
STOPPED = "the copy of the artifacts stopped before it was whole"


class CopyStopped(Exception):
    """The copy being followed will not become the job's stored tar (the reason says why)."""


def following(
    redis: Client, job_id: str, copy: artifact_records.Copying, chunk_bytes: int, idle: float
) -> Iterator[bytes]:
    """The bytes of the copy `copy` of the job's tar, as they are written, to its end.

    Raises:
        CopyStopped: the copy stopped, was begun again by another worker, is on another
            machine, or wrote nothing for `idle` seconds.
    """
    try:
        handle = open(copy.part, "rb", buffering=0)  # a raw file: no EOF is remembered
    except FileNotFoundError:
        stored = _stored(redis, job_id)
        if stored is None or not Path(stored.file).is_file():
            raise CopyStopped(STOPPED) from None
        handle = open(stored.file, "rb", buffering=0)  # renamed just now: the whole tar
    with handle:
        inode = os.fstat(handle.fileno()).st_ino
        last_growth = time.monotonic()
        while True:
            piece = handle.read(chunk_bytes)
            if piece:
                last_growth = time.monotonic()
                yield piece
                continue
            stored = _stored(redis, job_id)
            if stored is not None:  # whole: is it the file we have open?
                if _inode(stored.file) != inode:
                    raise CopyStopped("another worker copied the artifacts again")
                while piece := handle.read(chunk_bytes):
                    yield piece
                return
            now = artifact_records.copying(redis, job_id)
            if now is None or now.part != copy.part:
                raise CopyStopped(STOPPED)
            if time.monotonic() - last_growth > idle:
                raise CopyStopped(f"the copy of the artifacts wrote nothing for {idle:g} s")
            time.sleep(POLL_SECONDS)


def _stored(redis: Client, job_id: str) -> artifact_records.Stored | None:
    return retrying(lambda: artifact_records.read(redis, job_id), "reading artifacts")


def _inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None
