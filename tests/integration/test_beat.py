"""Celery beat keeps every host of the fleet sampled, cleaned and reconciled — one beat at a time.

Real beat processes, two Docker hosts (two dockerd, two workers), one Redis.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from dockfleet import Fleet, keys
from dockfleet.queues import host_queue
from tests.conftest import HEARTBEAT, LOCAL_DOCKER, Host, worker_env
from tests.support.services import BeatProcess, WorkerProcess, wait_for

STATS_EVERY = 1.0
CLEANUP_EVERY = 2.0


@contextmanager
def beat(redis_url: str, tag: str) -> Iterator[BeatProcess]:
    env = {
        "DOCKFLEET_REDIS_URL": redis_url,
        "DOCKFLEET_HEARTBEAT_INTERVAL": str(HEARTBEAT),
        "DOCKFLEET_STATS_INTERVAL": str(STATS_EVERY),
        "DOCKFLEET_CLEANUP_INTERVAL": str(CLEANUP_EVERY),
        "DOCKFLEET_RECONCILE_INTERVAL": str(CLEANUP_EVERY),
    }
    process = BeatProcess(env, tag).start()
    try:
        yield process
    finally:
        process.stop()


def _dispatches(client: redis.Redis, kind: str, since: float) -> list[dict[str, str]]:
    entries = client.xrange(keys.DISPATCH_LOG)
    return [f for _, f in entries if f["kind"] == kind and float(f["at"]) >= since]  # type: ignore[index, misc]


def test_beat_samples_and_cleans_both_hosts_each_interval(
    fleet: Fleet, host_a: Host, host_b: Host, redis_url: str
) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    cleanups_before = {h.name: client.xlen(keys.cleanup_reports(h.name)) for h in (host_a, host_b)}
    # Given a beat at a 1-s stats and 2-s cleanup interval
    with beat(redis_url, secrets.token_hex(2)) as process:
        started = time.time()
        # When it runs for a few intervals
        time.sleep(7)
        # Then each stats tick was fanned out to both hosts
        ticks = _dispatches(client, "sample_stats", started)
        print(f"\n{len(ticks)} stats ticks in 7 s; beat sent {process.sent()} due tasks")
        assert len(ticks) >= 4
        assert all({host_a.name, host_b.name} <= set(t["hosts"].split(",")) for t in ticks[1:])
        # And both hosts were swept within the last interval or two, and cleaned more than once
        for host in (host_a, host_b):
            last_sweep = float(client.hget(keys.host(host.name), "last_sweep") or 0)
            assert time.time() - last_sweep < 3 * STATS_EVERY, host.name
            assert client.xlen(keys.cleanup_reports(host.name)) - cleanups_before[host.name] >= 2
            assert client.xlen(keys.reconcile_reports(host.name)) >= 2


def test_a_killed_worker_marks_its_host_down_and_its_queue_does_not_pile_up(
    fleet: Fleet, host_a: Host, redis_url: str, policy: object
) -> None:
    # Given a third host served by one worker, and beat running
    name = f"td-{secrets.token_hex(3)}"
    env = worker_env(redis_url, LOCAL_DOCKER, policy)  # type: ignore[arg-type]
    worker = WorkerProcess(name, env).start()
    worker.wait_ready(redis_url)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    with beat(redis_url, secrets.token_hex(2)):
        wait_for(lambda: client.hget(keys.host(name), "last_sweep") is not None, 15, "a sweep")
        # When its worker is killed (no goodbye)
        assert worker.process is not None
        worker.process.kill()
        worker.process.wait(10)
        killed = time.monotonic()
        # Then the host is listed as down within three heartbeats (plus one of slack)
        wait_for(
            lambda: not {h.name: h for h in fleet.hosts()}[name].up, 4 * HEARTBEAT + 1, "host down"
        )
        print(f"\nhost down {time.monotonic() - killed:.1f} s after its worker was killed")
        time.sleep(1.5)  # a tick already being dispatched may still land
        queued = client.llen(host_queue(name))
        # And beat sends it nothing more: its queue does not grow over further intervals
        time.sleep(5 * STATS_EVERY)
        assert client.llen(host_queue(name)) == queued
        print(f"{queued} expired-to-be messages left in its queue")
        assert queued <= 3 * 4  # what was sent during the ~3 s before it was declared down
    client.delete(host_queue(name))
    worker.stop()  # (dead already: this removes what it left, its warm networks)


def test_two_beats_at_once_schedule_each_tick_once(fleet: Fleet, redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    with beat(redis_url, "one") as first:
        wait_for(lambda: first.sent() > 0, 20, "the first beat to lead")
        # Given a second beat started while the first leads
        with beat(redis_url, "two") as second:
            started = time.time()
            time.sleep(6)
            # Then only the leader sends, and each tick is dispatched once
            ticks = _dispatches(client, "sample_stats", started)
            print(
                f"\nleader sent {first.sent()}, follower {second.sent()}; "
                f"{len(ticks)} stats dispatches in 6 s"
            )
            assert second.sent() == 0
            assert 3 <= len(ticks) <= 6 / STATS_EVERY + 1
            # When the leader dies without releasing the lead
            assert first.process is not None
            first.process.kill()
            first.process.wait(10)
            killed = time.monotonic()
            # Then the second takes over within the lead's TTL
            wait_for(lambda: second.sent() > 0, 20, "the second beat to take over")
            print(f"second beat took over {time.monotonic() - killed:.1f} s after the kill")
