"""The network pool's record: idle networks, the jobs holding them, the top-up turn.
Real Redis; raw reads pin the wire format older workers wrote."""

from __future__ import annotations

import pytest
import redis
from redis.exceptions import LockError

from dockfleet import keys
from dockfleet.store import network_pool, owned_keys
from tests.conftest import random_name


def test_a_held_network_is_never_offered_and_a_taken_one_is_held_by_its_job(
    client: redis.Redis,
) -> None:
    host = random_name("h")
    # Given one idle network, and one a job made for itself outside the pool
    assert network_pool.offer(client, host, "net-a")
    network_pool.hold(client, host, "net-b", "job-1")
    # Then the held one is not offered, whoever offers it
    assert not network_pool.offer(client, host, "net-b")
    assert network_pool.idle_count(client, host) == 1
    # When a job takes the idle one
    assert network_pool.take_idle(client, host, "job-2") == "net-a"
    # Then it is held by that job, in the hash older workers wrote, and the pool is empty
    assert client.hget(keys.network_pool_in_use(host), "net-a") == "job-2"
    assert network_pool.holders(client, host) == {"net-a": "job-2", "net-b": "job-1"}
    assert network_pool.take_idle(client, host, "job-3") is None
    # When its job gives it back, it can be offered again and drained
    network_pool.release(client, host, "net-a")
    assert network_pool.holder(client, host, "net-a") is None
    assert network_pool.offer(client, host, "net-a")
    assert client.smembers(keys.network_pool(host)) == {"net-a"}
    assert network_pool.pop_idle(client, host) == "net-a"
    assert network_pool.pop_idle(client, host) is None


def test_one_worker_at_a_time_tops_the_pool_up(
    client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = random_name("h")
    key = keys.network_pool_prewarm(host)
    # Given a turn held by one worker
    with network_pool.prewarm_turn(client, host):
        assert client.exists(key)
        # Then another, waiting no longer than its patience, does not get it
        monkeypatch.setattr(network_pool, "PREWARM_SECONDS", 0)
        with pytest.raises(LockError), network_pool.prewarm_turn(client, host):
            pass
    # And once the block ends the turn is free
    assert not client.exists(key)
    assert owned_keys.take(client, key, "next", 1000)


def test_a_network_given_back_joins_the_pool_only_while_it_has_room(client: redis.Redis) -> None:
    host = random_name("h")
    # Given a pool with room for two, holding one idle network, and two networks in use
    assert network_pool.offer(client, host, "net-a")
    assert network_pool.take_idle(client, host, "job-1") == "net-a"
    network_pool.hold(client, host, "net-b", "job-2")
    assert network_pool.offer(client, host, "net-c")
    # When both jobs give theirs back
    first = network_pool.give_back(client, host, "net-a", max_idle=2)
    second = network_pool.give_back(client, host, "net-b", max_idle=2)
    # Then the first is idle and held by nobody; the second, past the room, stays held
    # (its giver removes it, then releases it)
    assert (first, second) == (True, False)
    assert client.smembers(keys.network_pool(host)) == {"net-a", "net-c"}
    assert network_pool.holders(client, host) == {"net-b": "job-2"}
