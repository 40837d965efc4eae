"""Streamed transfers through Redis: windowed, safe to repeat, and gone after their TTL."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest
import redis

from dockfleet import keys
from dockfleet.errors import TransferFailed
from dockfleet.store import transfers
from dockfleet.transfer import Limits, receive, send
from tests.conftest import random_name

KIB = 1024


@pytest.fixture
def binary(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


def leftover_keys(client: redis.Redis, transfer_id: str) -> list[str]:
    return [str(k) for k in client.keys(keys.transfer(transfer_id) + "*")]


def half_sent(client: redis.Redis, chunks: int, ttl: int) -> tuple[str, Limits]:
    """A transfer opened with `chunks` chunks of 1 KiB sent and more to come."""
    transfer_id = random_name("t")
    limits = Limits(window=8 * KIB, ttl=ttl)
    transfers.open_transfer(client, transfer_id, window=limits.window, size=0, ttl=ttl)
    for seq in range(chunks):
        transfers.push(client, transfer_id, seq, b"y" * KIB, last=False, ttl=ttl)
    return transfer_id, limits


def test_a_transfer_arrives_whole_and_never_holds_more_than_its_window(
    client: redis.Redis, binary: redis.Redis
) -> None:
    # Given 200 chunks of 4 KiB sent through a window of 16 KiB
    transfer_id = random_name("t")
    limits = Limits(window=16 * KIB, ttl=30)
    data = [os.urandom(4 * KIB) for _ in range(200)]
    transfers.open_transfer(client, transfer_id, window=limits.window, size=800 * KIB, ttl=30)
    peak = [0]
    sender = threading.Thread(target=send, args=(client, transfer_id, data, limits))
    sender.start()

    # When a slow receiver takes them
    received = []
    for chunk in receive(binary, transfer_id, "r1", limits):
        status = transfers.status(client, transfer_id)
        assert status is not None
        peak[0] = max(peak[0], status.sent_bytes - status.taken_bytes)
        received.append(chunk)
        time.sleep(0.001)
    transfers.deliver(client, transfer_id, "r1", 60)
    sender.join(10)

    # Then everything came, in order, and Redis never held more than the window
    assert received == data and not sender.is_alive()
    assert 0 < peak[0] <= 16 * KIB
    # And once delivered no chunk stays; its small record does (for an adopting worker),
    # with the bell that woke the sender, both for a while only
    assert keys.transfer_data(transfer_id) not in leftover_keys(client, transfer_id)
    assert all(0 < client.ttl(key) <= 60 for key in leftover_keys(client, transfer_id))


def test_every_step_is_safe_to_repeat_after_a_lost_reply(client: redis.Redis) -> None:
    transfer_id = random_name("t")
    transfers.open_transfer(client, transfer_id, window=100, size=3, ttl=30)
    assert not transfers.open_transfer(client, transfer_id, window=100, size=3, ttl=30)
    assert transfers.push(client, transfer_id, 0, b"a", last=False, ttl=30) == transfers.OK
    assert transfers.push(client, transfer_id, 0, b"a", last=False, ttl=30) == transfers.DUP
    assert transfers.push(client, transfer_id, 2, b"c", last=True, ttl=30) == transfers.GAP
    assert transfers.claim(client, transfer_id, "r1") == (transfers.OK, "")
    for _ in range(2):
        assert transfers.ack(client, transfer_id, "r1", 1, 1, 30) == transfers.OK
    status = transfers.status(client, transfer_id)
    assert status is not None and (status.acked, status.taken_bytes) == (1, 1)
    # A second receiver cannot take over a transfer whose chunks were taken already
    assert transfers.claim(client, transfer_id, "r2") == (transfers.TAKEN, "")
    transfers.discard(client, transfer_id)


def test_an_abort_reaches_the_other_end_with_its_reason(
    client: redis.Redis, binary: redis.Redis
) -> None:
    transfer_id, limits = half_sent(client, chunks=1, ttl=30)
    chunks = receive(binary, transfer_id, "r1", limits)
    assert next(chunks) == b"y" * KIB
    transfers.abort(client, transfer_id, "the client stopped: KeyboardInterrupt", 30)
    with pytest.raises(TransferFailed, match="the client stopped: KeyboardInterrupt"):
        next(chunks)
    # The chunks are gone at once; the record says why until its TTL
    assert transfers.status(client, transfer_id).state == transfers.ABORTED  # type: ignore[union-attr]
    left = {keys.transfer(transfer_id), keys.transfer_bell(transfer_id)}
    assert set(leftover_keys(client, transfer_id)) == left
    assert all(0 < client.ttl(key) <= 30 for key in left)


def test_a_transfer_whose_ends_both_stopped_leaves_no_key_after_its_ttl(
    client: redis.Redis, binary: redis.Redis
) -> None:
    # Given a transfer half sent, then half taken, and both ends gone
    transfer_id, limits = half_sent(client, chunks=4, ttl=2)
    chunks = receive(binary, transfer_id, "r1", limits)
    next(chunks), next(chunks), next(chunks)  # the third asks for more: the first two acked
    assert leftover_keys(client, transfer_id)

    # Then after the TTL nothing of it is left, and a receiver still waiting is told why
    time.sleep(2.5)
    assert leftover_keys(client, transfer_id) == []
    with pytest.raises(TransferFailed, match="gone from Redis"):
        list(chunks)


def test_a_chunk_refused_for_room_is_taken_back_and_goes_in_when_sent_again(
    client: redis.Redis, binary: redis.Redis
) -> None:
    # Given a window of 10 bytes holding 6 (the chunk goes in by a plain XADD, which the
    # script in the same MULTI takes back when the chunk does not count)
    transfer_id = random_name("t")
    transfers.open_transfer(client, transfer_id, window=10, size=14, ttl=30)
    assert transfers.push(client, transfer_id, 0, b"a" * 6, last=False, ttl=30) == transfers.OK

    # When the next chunk finds no room, twice
    for _ in range(2):
        assert transfers.push(client, transfer_id, 1, b"b" * 6, last=True, ttl=30) == "full"

    # Then the stream holds only what counted; and once the first is taken, the same chunk
    # goes in (the stream's last id went back with it) and arrives, the last
    assert transfers.read(binary, transfer_id, -1, 10, 1) == [(0, b"a" * 6, False)]
    assert transfers.claim(client, transfer_id, "r1") == (transfers.OK, "")
    assert transfers.ack(client, transfer_id, "r1", 1, 6, 30) == transfers.OK
    assert transfers.push(client, transfer_id, 1, b"b" * 6, last=True, ttl=30) == transfers.OK
    assert transfers.read(binary, transfer_id, 0, 10, 1) == [(1, b"b" * 6, True)]
    assert transfers.status(client, transfer_id).state == transfers.SEALED  # type: ignore[union-attr]
    transfers.discard(client, transfer_id)


def test_a_chunk_for_a_transfer_that_is_over_leaves_no_stream_behind(
    client: redis.Redis,
) -> None:
    # A first chunk refused (a gap) leaves an empty stream that expires, as every key does
    transfer_id = random_name("t")
    transfers.open_transfer(client, transfer_id, window=100, size=2, ttl=30)
    assert transfers.push(client, transfer_id, 1, b"b", last=True, ttl=30) == transfers.GAP
    data = keys.transfer_data(transfer_id)
    assert client.xlen(data) == 0 and 0 < client.ttl(data) <= 30
    assert transfers.push(client, transfer_id, 0, b"a", last=False, ttl=30) == transfers.OK

    # A chunk for a transfer that was aborted, or is gone, is refused and makes no stream
    transfers.abort(client, transfer_id, "stopped", 30)
    assert transfers.push(client, transfer_id, 1, b"b", last=True, ttl=30) == transfers.ABORTED
    assert transfers.push(client, transfer_id, 0, b"a", last=False, ttl=30) == transfers.DUP
    assert not client.exists(data)
    transfers.discard(client, transfer_id)
    assert transfers.push(client, transfer_id, 0, b"a", last=False, ttl=30) == transfers.GONE
    assert leftover_keys(client, transfer_id) == []
