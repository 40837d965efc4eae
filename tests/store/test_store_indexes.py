"""The small records of the store: image last use, the routing index, queue depths, the
beat leader, single-flight pulls, maintenance reports, orphan suspects, dispatches and
uploads. Real Redis; names of each test's own. Raw reads pin the wire format older
workers wrote."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import redis

from dockfleet import keys
from dockfleet.models import CleanupReport, ContainerInfo, ReconcileReport
from dockfleet.queues import priority_lists
from dockfleet.store import (
    beat_leader,
    build_uploads,
    dispatch_log,
    image_pulls,
    image_use,
    maintenance_reports,
    orphan_suspects,
    queue_depth,
    routing_index,
)
from tests.conftest import random_name


def test_image_last_use_keeps_the_latest_time_and_forgets_a_removed_image(
    client: redis.Redis,
) -> None:
    host = random_name("h")
    # Given two images used, one of them again later (an empty id is no image)
    image_use.touch(client, host, ["sha256:a", "sha256:b", ""], at=100.0)
    image_use.touch(client, host, ["sha256:a"], at=200.0)
    # Then the record keeps each one's last use, in the sorted set older workers wrote
    assert image_use.last_use(client, host) == {"sha256:a": 200.0, "sha256:b": 100.0}
    assert client.zscore(keys.image_last_use(host), "sha256:b") == 100.0
    # And an image removed from the host drops out
    image_use.forget(client, host, "sha256:b")
    assert image_use.last_use(client, host) == {"sha256:a": 200.0}
    image_use.touch(client, host, [])  # nothing used: nothing written, no error


def test_the_routing_index_finds_a_container_by_id_short_id_and_name(
    client: redis.Redis,
) -> None:
    # Given a container remembered on two hosts under one name
    name = random_name("c")
    one = ContainerInfo(id="1" * 64, name=name, host="h1", image="busybox", status="running")
    two = ContainerInfo(id="2" * 64, name=name, host="h2", image="busybox", status="running")
    routing_index.remember(client, one)
    routing_index.remember(client, two)
    # Then each ref leads to its hosts, with a TTL on each entry
    assert routing_index.hosts_of(client, one.short_id) == ["h1"]
    assert routing_index.hosts_of(client, name) == ["h1", "h2"]
    assert 0 < client.ttl(keys.locate(one.id)) <= routing_index.TTL_SECONDS
    # When one is removed, and the client finds the other's name entry stale
    routing_index.forget(client, one)
    routing_index.forget_ref(client, name, "h2")
    # Then neither leads anywhere any more
    assert routing_index.hosts_of(client, one.id) == []
    assert routing_index.hosts_of(client, name) == []


def test_queue_depth_counts_every_priority_step(client: redis.Redis) -> None:
    # Given a queue with messages at two priority steps, and an empty one
    busy, idle = random_name("q"), random_name("q")
    lists = priority_lists(busy)
    client.lpush(lists[0], "m1", "m2")
    client.lpush(lists[-1], "m3")
    # Then both are counted, the empty one as 0
    assert queue_depth.depths(client, [busy, idle]) == {busy: 3, idle: 0}


def test_one_beat_leads_until_it_steps_down(client: redis.Redis, redis_url: str) -> None:
    # Given a leader (its repeated hold renews; another beat's hold fails)
    client.delete(keys.BEAT_LEADER)
    assert beat_leader.hold(client, "beat-1", 5.0)
    assert beat_leader.hold(client, "beat-1", 5.0)
    assert not beat_leader.hold(client, "beat-2", 5.0)
    # When the follower tries to step down it changes nothing; when the leader does
    beat_leader.step_down(client, "beat-2")
    assert client.get(keys.BEAT_LEADER) == "beat-1"
    beat_leader.step_down(client, "beat-1")
    # Then the other beat may lead
    assert beat_leader.hold(client, "beat-2", 5.0)
    beat_leader.step_down(client, "beat-2")


def test_one_pull_of_a_reference_per_host_at_a_time(client: redis.Redis) -> None:
    host, reference = random_name("h"), f"{random_name('img')}:1"
    first = image_pulls.PullTurn(client, host, reference)
    second = image_pulls.PullTurn(client, host, reference)
    # Given a first puller that holds the turn
    seen = second.finished()
    assert first.take() and first.renew()
    # Then a second waits in vain while it is held
    assert not second.take()
    assert not second.wait(0.3)
    # When the first finishes and lets go
    first.done()
    first.release()
    # Then the second gets its turn and sees that a pull finished meanwhile
    assert second.wait(1.0)
    assert second.finished() == seen + 1
    assert 0 < client.ttl(keys.image_pull_done(host, reference)) <= image_pulls.DONE_TTL_SECONDS
    second.release()


def test_a_pull_turn_excludes_a_worker_that_still_uses_the_older_redis_lock(
    client: redis.Redis,
) -> None:
    # Given an older worker holding the pull lock with redis-py's Lock
    host, reference = random_name("h"), f"{random_name('img')}:1"
    older = client.lock(keys.image_pull_lock(host, reference), timeout=10)
    assert older.acquire(blocking=False)
    turn = image_pulls.PullTurn(client, host, reference)
    # Then a newer worker waits for it; and once it is released, takes it
    assert not turn.take()
    older.release()
    assert turn.take()
    # And the older worker now waits on the newer one
    assert not client.lock(keys.image_pull_lock(host, reference)).acquire(blocking=False)
    turn.release()


def test_maintenance_totals_add_up_each_run_and_leave_dry_runs_out(client: redis.Redis) -> None:
    host = random_name("h")
    cleanup = maintenance_reports.Totals(
        removed={"container": 2, "network": 0, "image": 1}, bytes_reclaimed=10
    )
    reaped = maintenance_reports.Totals(reaped={"container": 1, "network": 0}, deadlines=0)
    # Given two cleanups, a reconcile, and a dry-run cleanup of one host
    now = datetime.now(UTC)
    done = CleanupReport(host=host, dry_run=False, started_at=now)
    for _ in range(2):
        maintenance_reports.record(client, "cleanup", done, cleanup, 5)
    reconciled = ReconcileReport(host=host, dry_run=False, started_at=now)
    maintenance_reports.record(client, "reconcile", reconciled, reaped, 5)
    dry = CleanupReport(host=host, dry_run=True, started_at=now)
    maintenance_reports.record(client, "cleanup", dry, cleanup, 5)

    # Then every report is kept, and the totals count the real runs only
    assert client.xlen(keys.cleanup_reports(host)) == 3
    entries: Any = client.xrange(keys.reconcile_reports(host))
    assert ReconcileReport.model_validate_json(entries[0][1]["r"]).host == host
    assert client.hgetall(keys.maintenance_totals(host)) == {
        "removed_container": "4", "removed_image": "2", "bytes_reclaimed": "20",
        "reaped_container": "1",
    }  # fmt: skip
    totals = maintenance_reports.totals(client, [host])[host]
    assert totals.removed == {"container": 4, "image": 2} and totals.reaped == {"container": 1}
    assert totals.bytes_reclaimed == 20 and totals.deadlines == 0
    # And a run's log line names every count it keeps, zeros included
    assert reaped.fields() == {"reaped_container": 1, "reaped_network": 0, "deadline_container": 0}


def test_an_orphan_suspect_keeps_its_first_sighting_until_cleared(client: redis.Redis) -> None:
    host = random_name("h")
    # Given two objects first seen without a lease
    orphan_suspects.update(client, host, {"c1": 100.0, "n1": 150.0}, [])
    # When a later look adds one and clears one, and one is reaped
    orphan_suspects.update(client, host, {"c2": 200.0}, ["n1"])
    orphan_suspects.clear(client, host, "c2")
    # Then the first sighting of the one left stands, and the hash has a TTL
    assert orphan_suspects.first_seen(client, host) == {"c1": 100.0}
    assert 0 < client.ttl(keys.orphan_suspects(host)) <= orphan_suspects.TTL_SECONDS


def test_one_dispatch_of_a_kind_per_tick_and_each_one_logged(client: redis.Redis) -> None:
    kind = random_name("kind")
    # Given a dispatch that claimed its tick
    assert dispatch_log.claim_tick(client, kind, 5000)
    # Then a duplicate within the tick is dropped
    assert not dispatch_log.claim_tick(client, kind, 5000)
    # And a dispatch is logged with the fields older readers know
    dispatch_log.record(client, kind, ["h1", "h2"], "h1")
    entries: Any = client.xrevrange(keys.DISPATCH_LOG, count=50)
    fields = next(f for _, f in entries if f["kind"] == kind)
    assert fields["hosts"] == "h1,h2" and fields["by"] == "h1" and float(fields["at"]) > 0


def test_an_upload_is_kept_whole_for_one_build_then_discarded(
    client: redis.Redis, redis_url: str
) -> None:
    # Given a context over one chunk parked by the client
    data = bytes(range(256)) * (build_uploads.CHUNK_BYTES // 256 + 3)
    upload_id = build_uploads.park(client, data, ttl_seconds=60)
    binary = redis.Redis.from_url(redis_url)
    try:
        # Then the worker reads its size and its bytes back whole
        assert build_uploads.size(client, upload_id) == len(data)
        assert build_uploads.read(binary, upload_id) == data
        assert 0 < client.ttl(keys.build_upload(upload_id)) <= 60
        # And once discarded it is gone
        build_uploads.discard(client, upload_id)
        assert build_uploads.read(binary, upload_id) is None
        assert build_uploads.size(client, upload_id) == 0
    finally:
        binary.close()
