"""Both ends of a streamed transfer through Redis: `send` chunks, `receive` them, in a window.

The sender adds chunks while the transfer's window has room and otherwise waits on
the bell the receiver rings when it takes chunks; the receiver takes chunks as
they come and drops them once used. So one transfer never holds more than its
window in Redis, and the two ends work at the same time. Either end may abort,
with a reason the other end reads; a dead end is noticed by the TTL its keys
lose. The record and its rules are `dockfleet.store.transfers`.

A job's workspace goes client → worker (`dockfleet.client.workspace_upload` sends,
`worker.jobs.workspace` receives); artifacts go the other way with the same two
(`worker.jobs.artifact_folder` sends, `dockfleet.client.artifacts` receives).
Every Redis step is retried while Redis restarts (all of them are safe to repeat).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial

from dockfleet.errors import TransferFailed
from dockfleet.redis_retry import retrying
from dockfleet.settings import Settings
from dockfleet.store import transfers
from dockfleet.store.redis_types import Client

#: bytes per chunk (at most the window): each Redis command stays short, and a chunk with
#: its stream entry fits the allocator's 1 MiB size class (1 MiB of data would take 1.25)
CHUNK_BYTES = 1024 * 1024 - 4096
#: chunks the receiver reads per call
READ_COUNT = 1
#: seconds an end waits on the other before it looks at the transfer again
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Limits:
    """What both ends agree on: the window (bytes in Redis at most) and the keys' TTL."""

    window: int
    #: seconds a transfer's keys outlive the last step of either end
    ttl: int

    @property
    def chunk_bytes(self) -> int:
        return max(1, min(CHUNK_BYTES, self.window))

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """The limits `settings` set (``transfer_window``, ``transfer_idle_seconds``)."""
        return cls(window=settings.transfer_window, ttl=settings.transfer_idle_seconds)


def send(
    client: Client,
    transfer_id: str,
    chunks: Iterable[bytes],
    limits: Limits,
    *,
    stop: Callable[[], str | None] = lambda: None,
    on_progress: Callable[[int], None] | None = None,
) -> None:
    """Add `chunks` to the open transfer `transfer_id`, then wait until it is delivered.

    Args:
        stop: asked each time the sender waits; a reason to give up (the job ended
            meanwhile), or None to go on waiting.
        on_progress: called with the bytes taken by the receiver so far.

    Raises:
        TransferFailed: the receiver aborted, the transfer was lost (Redis restarted
            without it), or `stop` gave a reason.
    """
    wait = _Waiting(client, transfer_id, limits, stop, on_progress)
    seq, pieces = 0, _prefetched(chunks)
    chunk = next(pieces, None)
    while chunk is not None:
        after = next(pieces, None)
        while True:
            push = partial(
                transfers.push, client, transfer_id, seq, chunk, last=after is None, ttl=limits.ttl
            )
            answer = retrying(push, "sending a chunk")
            if answer in (transfers.OK, transfers.DUP):
                break
            if answer != transfers.FULL:
                raise _failed(client, transfer_id, answer)
            wait()
        seq, chunk = seq + 1, after
    while True:
        status = retrying(lambda: transfers.status(client, transfer_id), "reading a transfer")
        if status is not None and status.state == transfers.DELIVERED:
            return
        if status is None or status.state == transfers.ABORTED:
            raise _failed(client, transfer_id, status.state if status else transfers.GONE)
        wait()


def receive(client: Client, transfer_id: str, token: str, limits: Limits) -> Iterator[bytes]:
    """The transfer's chunks in order, as the sender adds them; each is dropped from Redis
    once the next is asked for. `client` must not decode replies.

    The caller calls `transfers.deliver` once it has used them all (or `abort`).

    Raises:
        TransferFailed: the sender aborted or stopped sending (its keys expired), another
            receiver took part of it, or a chunk was lost.
    """
    answer, reason = retrying(lambda: transfers.claim(client, transfer_id, token), "claim")
    if answer != transfers.OK:
        raise TransferFailed(transfer_id, _why(answer, reason))
    acked, taken = 0, 0
    block_ms = int(POLL_SECONDS * 1000)
    while True:
        read = partial(transfers.read, client, transfer_id, acked - 1, READ_COUNT, block_ms)
        batch = retrying(read, "reading chunks")
        for seq, chunk, _ in batch:
            if seq != acked:
                raise TransferFailed(transfer_id, _why(transfers.GAP, ""))
            yield chunk
            acked, taken = acked + 1, taken + len(chunk)
        if batch:
            ack = partial(transfers.ack, client, transfer_id, token, acked, taken, limits.ttl)
            done = retrying(ack, "taking chunks")
            if done != transfers.OK:
                raise _failed(client, transfer_id, done)
            if batch[-1][2]:  # the sender's last chunk
                return
            continue
        status = retrying(lambda: transfers.status(client, transfer_id), "reading a transfer")
        if status is None or status.state == transfers.ABORTED:
            raise _failed(client, transfer_id, status.state if status else transfers.GONE)
        if status.state == transfers.SEALED and acked >= status.chunks:
            return


def _prefetched(chunks: Iterable[bytes], depth: int = 2) -> Iterator[bytes]:
    """`chunks`, made up to `depth` ahead in a thread: the files are read while the last
    chunk travels to Redis. An error of the maker is raised here, in order."""
    ahead: queue.Queue[bytes | BaseException | None] = queue.Queue(depth)
    stopped = threading.Event()

    def make() -> None:
        try:
            for chunk in chunks:
                while not stopped.is_set():
                    try:
                        ahead.put(chunk, timeout=POLL_SECONDS)
                        break
                    except queue.Full:
                        continue
                if stopped.is_set():
                    return
            ahead.put(None)
        except BaseException as exc:  # handed to the reader, raised there
            ahead.put(exc)

    maker = threading.Thread(target=make, name="transfer-chunks", daemon=True)
    maker.start()
    try:
        while (item := ahead.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stopped.set()


class _Waiting:
    """A sender's waits on its receiver: the bell, and every `POLL_SECONDS` the questions
    that cost a Redis call (should it stop? how far did the receiver get?)."""

    def __init__(
        self,
        client: Client,
        transfer_id: str,
        limits: Limits,
        stop: Callable[[], str | None],
        on_progress: Callable[[int], None] | None,
    ) -> None:
        self.client, self.transfer_id, self.limits = client, transfer_id, limits
        self.stop, self.on_progress = stop, on_progress
        self.asked = time.monotonic()

    def __call__(self) -> None:
        if time.monotonic() - self.asked >= POLL_SECONDS:
            self.asked = time.monotonic()
            reason = self.stop()
            if reason:
                raise TransferFailed(self.transfer_id, reason)
            if self.on_progress is not None:
                status = transfers.status(self.client, self.transfer_id)
                self.on_progress(status.taken_bytes if status else 0)
        retrying(
            lambda: transfers.wait_for_room(
                self.client, self.transfer_id, POLL_SECONDS, self.limits.ttl
            ),
            "waiting for the receiver",
        )


def _failed(client: Client, transfer_id: str, answer: str) -> TransferFailed:
    status = transfers.status(client, transfer_id)
    return TransferFailed(transfer_id, _why(answer, status.reason if status else ""))


def _why(answer: str, reason: str) -> str:
    if reason:
        return reason
    return {
        transfers.GONE: "it is gone from Redis: the other end stopped (killed?) more than "
        "DOCKFLEET_TRANSFER_IDLE_SECONDS ago, or Redis restarted without it",
        transfers.TAKEN: "another worker took part of it; it cannot be read twice",
        transfers.GAP: "a chunk is missing: Redis restarted without persisting it",
        transfers.ABORTED: "the other end aborted it",
        transfers.SEALED: "it was complete already",
        transfers.DELIVERED: "it was delivered already",
    }.get(answer, answer)
