"""Beat's maintenance fan-outs: one per kind and tick, each logged for operators and tests.

A guard per kind (`keys.dispatch_guard`), held for half an interval, lets
one dispatch of a tick through and drops its duplicates (two beats during a
change of leader, a redelivered message). It is an owned key
(`dockfleet.store.owned_keys`), so a claim repeated after a lost reply still
counts as made. Each dispatch goes into a capped stream
(`keys.DISPATCH_LOG`): kind, hosts, time, and the host that sent it.
"""

from __future__ import annotations

import time
import uuid

import redis

from dockfleet import keys
from dockfleet.store import owned_keys

#: the dispatch log keeps about this many entries
LOG_LENGTH = 1000


def claim_tick(client: redis.Redis, kind: str, hold_ms: int) -> bool:
    """True for the first dispatch of `kind` within `hold_ms`; False for a duplicate."""
    return owned_keys.take(client, keys.dispatch_guard(kind), uuid.uuid4().hex, hold_ms)


def record(client: redis.Redis, kind: str, hosts: list[str], by: str) -> None:
    """Log a dispatch of `kind` to `hosts`, sent by a worker of host `by`."""
    entry = {"kind": kind, "hosts": ",".join(hosts), "at": time.time(), "by": by}
    client.xadd(keys.DISPATCH_LOG, entry, maxlen=LOG_LENGTH, approximate=True)  # type: ignore[arg-type]
