"""Which Celery beat may schedule: one key holding the leader's identity, with a short TTL.

The leader renews the key on every tick; another beat sees it held and sends
nothing, and takes the lead once the key lapses (its leader died or hung).
The key is an owned key (`dockfleet.store.owned_keys`): only its holder renews or
drops it, and a take repeated after a lost reply still holds.
"""

from __future__ import annotations

import redis

from dockfleet import keys
from dockfleet.store import owned_keys


def hold(client: redis.Redis, identity: str, ttl_seconds: float) -> bool:
    """Take the lead if it is free, keep it if it is `identity`'s; never take another's."""
    return owned_keys.take(client, keys.BEAT_LEADER, identity, int(ttl_seconds * 1000))


def step_down(client: redis.Redis, identity: str) -> None:
    """Give the lead up now, if `identity` holds it (else it is another's: left alone)."""
    owned_keys.release(client, keys.BEAT_LEADER, identity)
