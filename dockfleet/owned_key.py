"""A Redis key held by one owner: taken with a token and a TTL, renewed and dropped by it alone.

Used for job leases and for the per-host container-slot lock. Every call is
safe to repeat after a dropped connection (`dockfleet.redis_retry.retrying`),
which is what makes a Redis restart cost a pause rather than a lock held by
nobody: a take whose reply was lost is recognised by its token on the next
try (a plain ``SET NX`` would answer "taken" and strand the key until its
TTL), and a renew or release of a key that is no longer ours does nothing.
"""

from __future__ import annotations

from typing import Any

import redis

_TAKE = """
local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if holder then return 0 end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
_OURS = "if redis.call('get', KEYS[1]) == ARGV[1] then "
_RENEW = _OURS + "return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = _OURS + "return redis.call('del', KEYS[1]) end return 0"


def take(client: redis.Redis, key: str, token: str, ttl_ms: int) -> bool:
    """Hold `key` for `ttl_ms` unless another token does; True if `token` holds it now."""
    answer: Any = client.eval(_TAKE, 1, key, token, ttl_ms)
    return bool(answer)


def renew(client: redis.Redis, key: str, token: str, ttl_ms: int) -> bool:
    """Extend our hold; False if the key lapsed or someone else holds it."""
    answer: Any = client.eval(_RENEW, 1, key, token, ttl_ms)
    return bool(answer)


def release(client: redis.Redis, key: str, token: str) -> bool:
    """Drop our hold (never someone else's); False if it was not ours any more."""
    answer: Any = client.eval(_RELEASE, 1, key, token)
    return bool(answer)
