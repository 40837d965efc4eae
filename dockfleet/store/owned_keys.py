"""A Redis key held by one owner: taken with a token and a TTL, renewed and dropped by it alone.

Used for job leases and for the per-host container-slot lock. Every call is
safe to repeat after a dropped connection (`dockfleet.redis_retry.retrying`),
which is what makes a Redis restart cost a pause rather than a lock held by
nobody: a take whose reply was lost is recognised by its token on the next
try (a plain ``SET NX`` would answer "taken" and strand the key until its
TTL), and a renew or release of a key that is no longer ours does nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import redis

from dockfleet.store.scripts import LuaScript

_TAKE = LuaScript("owned_take")
_RENEW = LuaScript("owned_renew")
_RELEASE = LuaScript("owned_release")


def take(client: redis.Redis, key: str, token: str, ttl_ms: int) -> bool:
    """Hold `key` for `ttl_ms` unless another token does; True if `token` holds it now."""
    answer: Any = _TAKE(client, [key], [token, ttl_ms])
    return bool(answer)


def renew(client: redis.Redis, key: str, token: str, ttl_ms: int) -> bool:
    """Extend our hold; False if the key lapsed or someone else holds it."""
    answer: Any = _RENEW(client, [key], [token, ttl_ms])
    return bool(answer)


def release(client: redis.Redis, key: str, token: str) -> bool:
    """Drop our hold (never someone else's); False if it was not ours any more."""
    answer: Any = _RELEASE(client, [key], [token])
    return bool(answer)


def wait_to_take(
    take: Callable[[], bool], seconds: float, *, first_poll: float = 0.005, max_poll: float = 0.1
) -> bool:
    """Try `take` (one of this module's takes, maybe wrapped) until it holds the key: True;
    False once `seconds` have passed. It tries again soon at first, then every `max_poll`."""
    deadline = time.monotonic() + seconds
    delay = first_poll
    while not take():
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, max_poll)
    return True
