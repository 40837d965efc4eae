"""The host registry and the stats record: one module writes and reads each, on the same wire.

Real Redis (the session's). Each test uses hosts of its own name, so the
records of other tests never meet its own. The raw Redis reads here pin the
wire format: a newer client must read what an older worker wrote.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import redis

from dockfleet import keys
from dockfleet.models import ContainerStats, SystemInfo
from dockfleet.settings import RetentionSettings
from dockfleet.store import batch, host_records, stats_history
from tests.conftest import random_name

BEAT = 1.0
OLD_HEARTBEAT_FIELDS = {
    "last_seen", "engine_ok", "docker_version", "cpus", "mem_total",
    "containers_running", "containers_total", "images", "disk_used", "disk_total",
}  # fmt: skip


def engine_facts(host: str) -> SystemInfo:
    return SystemInfo(host=host, docker_version="29.1", cpus=2, mem_total=4 << 30, images=3)


def sample(host: str, container_id: str, cpu_ns: int = 0) -> ContainerStats:
    now = datetime.now(UTC)
    return ContainerStats(id=container_id, name="c", host=host, read_at=now, cpu_total_ns=cpu_ns)


# -- the host registry ----------------------------------------------------------------


def test_a_heartbeat_is_written_in_the_fields_older_readers_know(client: redis.Redis) -> None:
    # Given a host and one of its workers
    host, worker = random_name("h"), random_name("w")

    # When the worker beats with its engine up and its disk seen, and a sweep reports
    host_records.write_beat(client, host, worker, time.time(), engine_facts(host), (5, 10))
    host_records.write_sweep(client, host, "cgroup", time.time(), 1.23456, 4)

    # Then the hash holds the same fields as before the store, and the host is listed
    fields = client.hgetall(keys.host(host))
    assert OLD_HEARTBEAT_FIELDS | {f"worker:{worker}"} <= set(fields)
    assert fields["sampling_mode"] == "cgroup" and fields["sweep_ms"] == "1.235"
    assert fields["sampled"] == "4" and fields["engine_ok"] == "1"
    assert client.zscore(keys.HOSTS, host) is not None
    assert 0 < client.ttl(keys.host(host)) <= host_records.HOST_KEY_TTL_SECONDS


def test_a_host_an_older_worker_wrote_reads_as_up_with_its_facts(client: redis.Redis) -> None:
    # Given a registry entry written field by field, as an older worker did
    host, now = random_name("h"), time.time()
    client.hset(
        keys.host(host),
        mapping={"last_seen": now, "worker:w1": now, "engine_ok": 1, "cpus": 8, "disk_used": 1},
    )
    client.zadd(keys.HOSTS, {host: now})

    # When the client reads the registry
    status = next(h for h in host_records.read_hosts(client, BEAT) if h.name == host)

    # Then it sees the host up, with what the worker wrote and defaults for the rest
    assert status.up and status.engine_ok and status.workers == ["w1"]
    assert status.cpus == 8 and status.disk_used == 1 and status.disk_total is None
    assert status.sampling_mode == "" and status.last_sweep is None


def test_a_host_is_down_when_its_engine_fails_and_when_its_last_worker_leaves(
    client: redis.Redis,
) -> None:
    host, worker = random_name("h"), random_name("w")

    def status() -> tuple[bool, bool]:
        found = next(h for h in host_records.read_hosts(client, BEAT) if h.name == host)
        return found.up, found.engine_ok

    # Given a host whose engine does not answer: down, listed with engine_ok false
    host_records.write_beat(client, host, worker, time.time(), None)
    assert status() == (False, False)
    assert host_records.worker_beat(client, host, worker) is not None
    # When the engine answers again it is up
    host_records.write_beat(client, host, worker, time.time(), engine_facts(host))
    assert status() == (True, True)
    # And when its only worker withdraws, it is down again
    host_records.withdraw_worker(client, host, worker)
    assert status() == (False, True)
    assert host_records.worker_beat(client, host, worker) is None


def test_a_worker_beat_reads_the_same_from_a_client_that_does_not_decode(redis_url: str) -> None:
    # Given a beat (dockfleet up reads it with a bytes client)
    host, worker, now = random_name("h"), random_name("w"), time.time()
    raw = redis.Redis.from_url(redis_url)
    try:
        host_records.write_beat(raw, host, worker, now, None)
        # Then the beat time and the engine's answer read back, and so does the listing
        assert host_records.worker_beat(raw, host, worker) == (now, False)
        assert host in [h.name for h in host_records.read_hosts(raw, BEAT)]
    finally:
        raw.close()


# -- the stats record -------------------------------------------------------------------


def test_a_sweep_writes_the_latest_view_each_history_and_the_feed(client: redis.Redis) -> None:
    # Given two samples of a host's sweep
    host = random_name("h")
    samples = [sample(host, "a" * 64, 10), sample(host, "b" * 64, 20)]
    retention = RetentionSettings(stats_samples_per_container=2, stats_seconds=60)

    # When the sweep writes them three times, in one MULTI
    for _ in range(3):
        with batch.together(client, atomic=True) as pipe:
            stats_history.write_sweep(pipe, host, samples, retention)

    # Then the latest view has both, each history is capped, entries keep the field "s"
    assert {s.id for s in stats_history.latest(client, [host])} == {"a" * 64, "b" * 64}
    assert stats_history.previous(client, host, ["a" * 64, "c"])["a" * 64].cpu_total_ns == 10
    assert len(stats_history.history(client, host, "a" * 64)) == 2
    entries: Any = client.xrange(keys.stats_history(host, "a" * 64))
    assert set(entries[0][1]) == {"s"}
    assert 0 < client.ttl(keys.stats_latest(host)) <= 60
    found = stats_history.find(client, "bbbb", [host])
    assert found is not None and stats_history.is_fresh(found, 1.0)

    # And a sweep that finds nothing running leaves no stale view behind
    with batch.together(client, atomic=True) as pipe:
        stats_history.write_sweep(pipe, host, [], retention)
    assert stats_history.latest(client, [host]) == []


def test_the_feed_yields_what_sweeps_write_from_now_on_filtered_by_host(
    client: redis.Redis,
) -> None:
    # Given a reader of the feed, for one host only
    mine, other = random_name("h"), random_name("h")
    retention = RetentionSettings()

    def write_soon() -> None:
        time.sleep(0.3)
        stats_history.write_sweep(client, other, [sample(other, "o" * 64)], retention)
        stats_history.write_sweep(client, mine, [sample(mine, "m" * 64)], retention)

    # When sweeps of both hosts write
    writer = threading.Thread(target=write_soon)
    writer.start()
    read = stats_history.feed(client, hosts={mine}, timeout=3.0, block_ms=200)
    got = next(read)
    writer.join()

    # Then the reader gets its host's sample
    assert got.host == mine and got.id == "m" * 64


def test_one_sweep_of_a_host_at_a_time(client: redis.Redis) -> None:
    # Given a sweep that has its turn
    host = random_name("h")
    turn = stats_history.take_sweep(client, host, 5.0)
    assert turn is not None
    # Then another is refused until the first ends, and the turn is an owned key with a TTL
    assert stats_history.take_sweep(client, host, 5.0) is None
    assert client.get(keys.stats_sweep_lock(host)) == turn
    assert 0 < client.pttl(keys.stats_sweep_lock(host)) <= 5000
    stats_history.end_sweep(client, host, turn)
    assert stats_history.take_sweep(client, host, 5.0) is not None
