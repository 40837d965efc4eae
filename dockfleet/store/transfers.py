"""Streamed transfers: files moving between a client and a worker through Redis, in chunks.

One transfer is three keys (`keys.transfer`, `keys.transfer_data`, `keys.transfer_bell`):

- a hash: ``state`` (open → sealed → delivered, or aborted, with a ``reason``),
  ``window`` (bytes), ``next`` and ``sent`` (chunks and bytes the sender added),
  ``chunks`` (the total, once sealed), ``acked`` and ``taken`` (chunks and bytes the
  receiver took), ``receiver`` (its token), ``size`` (the planned total, to show);
- a stream of the chunks sent and not yet taken, entry id ``<seq>-1``: never more
  than the window in bytes (`lua/transfer_push.lua` takes back a chunk that would pass it);
- the sender's bell: a list of at most one element, pushed whenever chunks are taken,
  that a sender with a full window waits on (BLPOP) instead of polling.

Every step is safe to repeat after a lost reply (sequence numbers and counts, never
increments), and every key has a TTL that each step of either side sets again, so a
transfer whose sides both stopped leaves nothing behind. Which side sends and which
receives is the caller's (`dockfleet.transfer`): a workspace goes client → worker, a
job's artifacts worker → client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from dockfleet import keys
from dockfleet.store.replies import text
from dockfleet.store.scripts import LuaScript

_PUSH = LuaScript("transfer_push")
_CLAIM = LuaScript("transfer_claim")
_ACK = LuaScript("transfer_ack")
_END = LuaScript("transfer_end")
#: what `push` answers besides a state: added, added already, no room, a chunk lost before
OK, DUP, FULL, GAP = "ok", "dup", "full", "gap"
GONE, TAKEN = "gone", "taken"
OPEN, SEALED, DELIVERED, ABORTED = "open", "sealed", "delivered", "aborted"


@dataclass(frozen=True)
class Status:
    """Where a transfer stands, as its hash says."""

    state: str
    reason: str = ""
    #: chunks the sender added, and the total once sealed (0 before)
    sent_chunks: int = 0
    chunks: int = 0
    acked: int = 0
    sent_bytes: int = 0
    taken_bytes: int = 0
    size: int = 0


def job_workspace(job_id: str) -> str:
    """The transfer id of a job's workspace."""
    return f"{job_id}.workspace"


def _keys(transfer_id: str) -> list[str]:
    return [
        keys.transfer(transfer_id),
        keys.transfer_data(transfer_id),
        keys.transfer_bell(transfer_id),
    ]


def open_transfer(
    client: redis.Redis, transfer_id: str, *, window: int, size: int, ttl: int
) -> bool:
    """Start a transfer (sender side): open, nothing sent, `size` bytes planned; False
    when a transfer of that id exists already."""
    fields = {"state": OPEN, "window": window, "size": size, "next": 0, "sent": 0, "taken": 0}
    pipe = client.pipeline(transaction=True)
    pipe.hsetnx(keys.transfer(transfer_id), "state", OPEN)
    pipe.expire(keys.transfer(transfer_id), ttl)  # in the same transaction: never without a TTL
    if not pipe.execute()[0]:
        return False
    pipe.delete(*_keys(transfer_id)[1:])
    pipe.hset(keys.transfer(transfer_id), mapping=fields)  # type: ignore[arg-type]
    pipe.expire(keys.transfer(transfer_id), ttl)
    pipe.execute()
    return True


def push(
    client: redis.Redis, transfer_id: str, seq: int, chunk: bytes, *, last: bool, ttl: int
) -> str:
    """Add chunk `seq`; `OK`, `DUP` (a repeat), `FULL` (wait), `GAP`, or the refusing state.

    The chunk goes in by a plain XADD, and `lua/transfer_push.lua`, in the same MULTI,
    counts it in or takes it back: through the script, Redis would copy it into Lua and
    out again (3-4× the Redis CPU of the XADD). A repeat's XADD is refused by the stream
    (the entry's id is taken), which the script expects.
    """
    hash_key, data_key = _keys(transfer_id)[:2]
    flag = "1" if last else "0"
    pipe = client.pipeline(transaction=True)
    pipe.xadd(data_key, {"d": chunk, "last": flag}, id=f"{seq}-1")
    _PUSH(pipe, [hash_key, data_key], [seq, len(chunk), flag, ttl])
    # The XADD's own error (a repeat's) is expected; the script's answer says what happened.
    answer = pipe.execute(raise_on_error=False)[1]
    if isinstance(answer, Exception):
        raise answer
    return text(answer)


def wait_for_room(client: redis.Redis, transfer_id: str, timeout: float, ttl: int) -> None:
    """Wait up to `timeout` seconds for the receiver to take chunks (the sender's side),
    keeping the transfer's keys alive meanwhile."""
    client.blpop([keys.transfer_bell(transfer_id)], timeout=timeout)
    touch(client, transfer_id, ttl)


def touch(client: redis.Redis, transfer_id: str, ttl: int) -> None:
    """Give every key of the transfer its TTL again (a side waiting on the other)."""
    pipe = client.pipeline(transaction=False)
    for key in _keys(transfer_id):
        pipe.expire(key, ttl)
    pipe.execute()


def claim(client: redis.Redis, transfer_id: str, token: str) -> tuple[str, str]:
    """Become the receiver: (`OK`, ""), (`TAKEN`, ""), (`GONE`, ""), or (state, reason) of a
    transfer that is over."""
    answer: Any = _CLAIM(client, [keys.transfer(transfer_id)], [token])
    values = [text(v) for v in answer]
    return values[0], values[1] if len(values) > 1 else ""


def read(
    client: redis.Redis, transfer_id: str, after_seq: int, count: int, block_ms: int
) -> list[tuple[int, bytes, bool]]:
    """Up to `count` chunks from `after_seq` + 1 on, as (seq, bytes, whether it is the
    last), waiting up to `block_ms` for the first; `client` must not decode replies."""
    start = f"{after_seq}-1" if after_seq >= 0 else "0-0"
    answer: Any = client.xread(
        {keys.transfer_data(transfer_id): start}, count=count, block=block_ms
    )
    if not answer:
        return []
    return [
        (int(text(entry_id).partition("-")[0]), fields[b"d"], fields.get(b"last") == b"1")
        for entry_id, fields in answer[0][1]
    ]


def ack(
    client: redis.Redis, transfer_id: str, token: str, chunks: int, taken: int, ttl: int
) -> str:
    """Drop the first `chunks` chunks (`taken` bytes in all); `OK`, `GONE`, `TAKEN`, `ABORTED`."""
    return text(_ACK(client, _keys(transfer_id), [token, chunks, taken, ttl]))


def deliver(client: redis.Redis, transfer_id: str, token: str, keep_seconds: int) -> str:
    """The receiver has unpacked it all: delivered, remembered for `keep_seconds` (a worker
    adopting the job must know); returns the state it ends in."""
    return text(_END(client, _keys(transfer_id), [DELIVERED, "", token, keep_seconds]))


def abort(client: redis.Redis, transfer_id: str, reason: str, ttl: int, token: str = "") -> str:
    """End it unfinished, saying why (either side; a receiver gives its `token`)."""
    return text(_END(client, _keys(transfer_id), [ABORTED, reason, token, ttl]))


def status(client: redis.Redis, transfer_id: str) -> Status | None:
    """The transfer's status; None once it is gone (expired, or never opened)."""
    raw: Any = client.hgetall(keys.transfer(transfer_id))
    if not raw:
        return None
    fields = {text(k): text(v) for k, v in raw.items()}

    def number(name: str) -> int:
        return int(fields.get(name) or 0)

    return Status(
        state=fields.get("state", ""),
        reason=fields.get("reason", ""),
        sent_chunks=number("next"),
        chunks=number("chunks"),
        acked=number("acked"),
        sent_bytes=number("sent"),
        taken_bytes=number("taken"),
        size=number("size"),
    )


def discard(client: redis.Redis, transfer_id: str) -> None:
    """Delete every key of the transfer (one that is gone is fine)."""
    client.delete(*_keys(transfer_id))
