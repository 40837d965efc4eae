"""Owned keys (job leases, the container-slot lock) are safe to take and drop again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from dockfleet import owned_key
from tests.conftest import random_name


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url, decode_responses=True)
    yield connection
    connection.close()


def test_a_take_repeated_after_a_lost_reply_still_holds_and_others_wait(
    client: redis.Redis,
) -> None:
    # Given a key taken by one owner
    key = random_name("dockfleet:test:owned")
    assert owned_key.take(client, key, "ours", 5000)

    # When the same owner takes it again (its first reply was lost) and another one tries
    again = owned_key.take(client, key, "ours", 5000)
    theirs = owned_key.take(client, key, "x", 5000)

    # Then the owner holds it, the other does not, and only the owner can renew or drop it
    assert again and not theirs
    assert not owned_key.renew(client, key, "x", 5000)
    assert not owned_key.release(client, key, "x")
    assert client.get(key) == "ours"
    assert owned_key.renew(client, key, "ours", 5000)
    assert owned_key.release(client, key, "ours")
    assert not owned_key.release(client, key, "ours")  # a repeated release changes nothing
    assert client.get(key) is None
