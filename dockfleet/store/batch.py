"""Writes to several records sent as one round trip: each record's module adds its commands.

A stats sweep, say, writes the stats, the images' last use and the host
registry together; ``together(client, atomic=True)`` wraps them in MULTI so a
reader never sees half of it. The pipeline is a client: pass it to any store
function that writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis
from redis.client import Pipeline


@contextmanager
def together(client: redis.Redis, *, atomic: bool = False) -> Iterator[Pipeline]:
    """A pipeline sent when the block ends (not sent if the block raises)."""
    pipe = client.pipeline(transaction=atomic)
    yield pipe
    pipe.execute()
