"""Owned keys (job leases, the container-slot lock) are safe to take and drop again."""

from __future__ import annotations

import redis

from dockfleet.store import owned_keys
from tests.conftest import random_name


def test_a_take_repeated_after_a_lost_reply_still_holds_and_others_wait(
    client: redis.Redis,
) -> None:
    # Given a key taken by one owner
    key = random_name("dockfleet:test:owned")
    assert owned_keys.take(client, key, "ours", 5000)

    # When the same owner takes it again (its first reply was lost) and another one tries
    again = owned_keys.take(client, key, "ours", 5000)
    theirs = owned_keys.take(client, key, "x", 5000)

    # Then the owner holds it, the other does not, and only the owner can renew or drop it
    assert again and not theirs
    assert not owned_keys.renew(client, key, "x", 5000)
    assert not owned_keys.release(client, key, "x")
    assert client.get(key) == "ours"
    assert owned_keys.renew(client, key, "ours", 5000)
    assert owned_keys.release(client, key, "ours")
    assert not owned_keys.release(client, key, "ours")  # a repeated release changes nothing
    assert client.get(key) is None
