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
def within(client: redis.Redis) -> Iterator[Pipeline]:
    """`client` itself when it is a pipeline (whoever made it sends it), else a pipeline
    sent when the block ends: a record's write of several commands that may go alone or
    in a caller's `together`."""
    if isinstance(client, Pipeline):
        yield client
        return
    with together(client) as pipe:
        yield pipe


@contextmanager
def together(client: redis.Redis, *, atomic: bool = False) -> Iterator[Pipeline]:
    """A pipeline sent when the block ends (not sent if the block raises)."""
    pipe = client.pipeline(transaction=atomic)
    yield pipe
    pipe.execute()
