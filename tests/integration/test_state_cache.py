"""The fleet-wide state cache: listings from Redis that match the hosts and heal themselves."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import docker
import pytest

from dockfleet import ContainerConfig, ContainerFilter, Fleet
from dockfleet import labels as fleet_labels
from dockfleet.models import ContainerInfo
from tests.conftest import TEST_IMAGE, Host
from tests.support.services import wait_for
from worker.engine import containers, images
from worker.engine.events import ContainerEvent, ContainerEvents
from worker.ops import container_ops
from worker.process import state_cache
from worker.process.cache_memory import memory
from worker.process.state_cache import StateFollower
from worker.runtime import Runtime


def cache_of(fleet: Fleet, host: Host) -> set[str]:
    return set(fleet.transport.redis.hkeys(f"dockfleet:state:{host.name}:containers"))


def events_since(rt: Runtime, container_id: str, since: int) -> list[ContainerEvent]:
    """The engine's events of one fleet container of `rt`'s host from `since` to now."""
    label = f"{fleet_labels.HOST}={rt.host}"
    until = int(time.time()) + 1
    stream = ContainerEvents(rt.docker, labels=[label], since=since, until=until)
    return [e for e in stream if e.container_id == container_id]


def counted_inspects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The containers inspected from now on (the engine adapter's inspect, counted)."""
    inspected: list[str] = []
    inspect = containers.inspect

    def counted(client: docker.DockerClient, ref: str, host: str) -> ContainerInfo:
        inspected.append(ref)
        return inspect(client, ref, host)

    monkeypatch.setattr(containers, "inspect", counted)
    return inspected


def applying(rt: Runtime, events: list[ContainerEvent]) -> StateFollower:
    """A follower of `rt`'s host that has applied `events`, in order."""
    follower = StateFollower(rt)
    for e in events:
        follower.apply(e)
    return follower


def cached_and_fresh(fleet: Fleet, host: Host) -> tuple[ContainerInfo, ContainerInfo]:
    """The host's one container as the cache lists it, and as the engine does."""
    query = ContainerFilter(host=host.name)
    [cached], [fresh] = fleet.list_containers(query), fleet.list_containers(query, fresh=True)
    return cached, fresh


def ids(infos: list[object]) -> list[str]:
    return sorted(i.id for i in infos)  # type: ignore[attr-defined]


def test_a_listing_from_the_cache_equals_asking_the_hosts(fleet: Fleet, host_a: Host) -> None:
    # Given containers made through the fleet, in several states
    made = [
        fleet.create_container(
            ContainerConfig(image=TEST_IMAGE, cmd=["sleep", "300"], labels={"cache": "yes"}),
            host=host_a.name,
        )
        for _ in range(4)
    ]
    fleet.start_container(made[0].id)
    fleet.start_container(made[1].id)
    fleet.stop_container(made[1].id, timeout=1)
    # Then they are in the cache at once (read-your-writes), and every filter agrees
    assert {m.id for m in made} <= cache_of(fleet, host_a)
    for query in (
        ContainerFilter(labels={"cache": "yes"}),
        ContainerFilter(labels={"cache": "yes"}, status=["running"]),
        ContainerFilter(labels={"cache": "yes"}, status=["exited", "created"]),
        ContainerFilter(labels={"cache": None}, limit=2),
    ):
        cached, fresh = fleet.list_containers(query), fleet.list_containers(query, fresh=True)
        assert ids(cached) == ids(fresh), query
        assert [(c.id, c.status) for c in cached] == [(c.id, c.status) for c in fresh]

    # And the cache answers the whole fleet in a round trip (a figure, not an assertion)
    began = time.perf_counter()
    fleet.list_containers()
    cached_ms = (time.perf_counter() - began) * 1000
    began = time.perf_counter()
    fleet.list_containers(fresh=True)
    fresh_ms = (time.perf_counter() - began) * 1000
    print(f"\nlisting: {cached_ms:.1f} ms from the cache, {fresh_ms:.1f} ms asking the hosts")


def test_changes_behind_the_fleets_back_reach_the_cache_by_events(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    info = fleet.create_container(
        ContainerConfig(image=TEST_IMAGE, cmd=["sleep", "300"]), host=host_a.name
    )
    container = local_engine.containers.get(info.id)
    container.start()  # not through the fleet
    query = ContainerFilter(host=host_a.name, status=["running"])
    wait_for(lambda: info.id in ids(fleet.list_containers(query)), 5, "start seen by events")
    container.remove(force=True)
    wait_for(lambda: info.id not in cache_of(fleet, host_a), 5, "removal seen by events")


def test_an_exit_behind_the_fleets_back_reaches_the_cache_with_its_code(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    info = fleet.create_container(
        ContainerConfig(image=TEST_IMAGE, cmd=["sh", "-c", "sleep 0.5; exit 4"]), host=host_a.name
    )
    local_engine.containers.get(info.id).start()  # not through the fleet: no wait writes it

    def exited() -> bool:
        listed = {c.id: c for c in fleet.list_containers(ContainerFilter(host=host_a.name))}
        return info.id in listed and (listed[info.id].status, listed[info.id].exit_code) == (
            "exited",
            4,
        )

    wait_for(exited, 10, "the exit seen by events")


def test_the_cache_heals_itself_after_missed_events(fleet: Fleet, host_a: Host) -> None:
    # Given a cache that lost an entry and gained a ghost (as after missed events)
    info = fleet.create_container(ContainerConfig(image=TEST_IMAGE), host=host_a.name)
    key = f"dockfleet:state:{host_a.name}:containers"
    redis = fleet.transport.redis
    redis.hdel(key, info.id)
    redis.hset(key, "ghost", info.model_copy(update={"id": "ghost"}).model_dump_json())

    # Then the next resync (every 3 s here) puts it right
    def healed() -> bool:
        cached = cache_of(fleet, host_a)
        return info.id in cached and "ghost" not in cached

    wait_for(healed, 10, "resync")
    assert info.id in ids(fleet.list_containers(ContainerFilter(host=host_a.name)))


def test_a_summary_read_before_a_newer_one_never_overwrites_it(fleet: Fleet, host_a: Host) -> None:
    # Given a container that ran and exited, waited for through the fleet
    info = fleet.create_container(
        ContainerConfig(image=TEST_IMAGE, cmd=["sh", "-c", "exit 3"]), host=host_a.name
    )
    fleet.start_container(info.id)
    fleet.wait_container(info.id, timeout=10)
    exited = ContainerFilter(host=host_a.name, status=["exited"])
    assert ids(fleet.list_containers(exited)) == [info.id]  # the wait wrote the exit

    # When a summary read while it still ran lands late (a start task's, an event's)
    worker = Runtime(fleet.settings.model_copy(update={"host_name": host_a.name}))
    final = fleet.inspect_container(info.id)
    stale = final.model_copy(update={"status": "running", "finished_at": None, "exit_code": None})
    state_cache.put(worker, stale)

    # Then the cache keeps the exit
    [cached] = fleet.list_containers(ContainerFilter(host=host_a.name))
    assert (cached.status, cached.exit_code) == ("exited", 3)

    # And once removed, no summary read before the removal brings it back
    state_cache.drop(worker, info.id)
    state_cache.put(worker, final)
    assert info.id not in cache_of(fleet, host_a)
    fleet.remove_container(info.id)


def test_a_resync_merges_by_version(
    fleet: Fleet, host_a: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an exited container, and a resync whose inspect of it was read while it ran
    # (the race the engine cannot be made to lose on demand: the inspect is stubbed)
    info = fleet.create_container(
        ContainerConfig(image=TEST_IMAGE, cmd=["sh", "-c", "exit 3"]), host=host_a.name
    )
    fleet.start_container(info.id)
    fleet.wait_container(info.id, timeout=10)
    final = fleet.inspect_container(info.id)
    stale = final.model_copy(update={"status": "running", "finished_at": None, "exit_code": None})
    follower = StateFollower(Runtime(fleet.settings.model_copy(update={"host_name": host_a.name})))
    monkeypatch.setattr(follower, "_inspect", lambda ref: stale if ref == info.id else None)

    # And two entries the engine does not list: one older than the listing (a ghost),
    # one made after it began (its container is newer than what the listing saw)
    later = datetime.now(UTC) + timedelta(seconds=30)
    state_cache.put(follower.rt, final.model_copy(update={"id": "ghost"}))
    state_cache.put(follower.rt, final.model_copy(update={"id": "newborn", "created": later}))

    # When the resync runs
    follower.resync()

    # Then the newer exit stays, the ghost goes, the newborn stays
    listed = {c.id: c for c in fleet.list_containers(ContainerFilter(host=host_a.name))}
    assert (listed[info.id].status, listed[info.id].exit_code) == ("exited", 3)
    assert cache_of(fleet, host_a) == {info.id, "newborn"}
    state_cache.drop(follower.rt, "newborn")


def test_the_follower_redoes_nothing_this_process_wrote(
    fleet: Fleet, host_a: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a container this process created, started and waited for (each change written)
    rt = Runtime(fleet.settings.model_copy(update={"host_name": host_a.name}))
    since = int(time.time()) - 1
    config = ContainerConfig(image=TEST_IMAGE, cmd=["sh", "-c", "sleep 0.3; exit 3"])
    made = container_ops.create(rt, config)
    container_ops.start(rt, made.id)
    # (its exit may come late on a busy machine: waited for at the engine, nothing written)
    rt.docker.api.wait(made.id, timeout=30)
    # And the engine's events of its life up to its exit, as the follower reads them
    events = events_since(rt, made.id, since)
    assert [e.action for e in events] == ["create", "start", "die"]
    inspected = counted_inspects(monkeypatch)

    # When the follower applies them
    follower = applying(rt, events)

    # Then it asked the engine nothing (the summaries it needs were written here), and the
    # cache shows the exit with its code, as a fresh listing does
    assert inspected == []
    cached, fresh = cached_and_fresh(fleet, host_a)
    assert (cached.id, cached.status, cached.exit_code) == (fresh.id, "exited", 3)

    # And a removal here drops the entry once, leaving its "destroy" nothing to do
    since = int(time.time()) - 1
    container_ops.remove(rt, made.id, force=True)
    [destroy] = [e for e in events_since(rt, made.id, since) if e.action == "destroy"]
    dropped: list[str] = []
    monkeypatch.setattr(state_cache.container_cache, "drop", lambda r, h, c: dropped.append(c))
    follower.apply(destroy)
    assert dropped == []
    assert made.id not in cache_of(fleet, host_a)


def test_an_exit_read_at_the_start_costs_the_die_nothing(
    fleet: Fleet, host_a: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a container made here that exits at once, started behind this process's back
    # (as a job's container is started: the follower reads it at its "start" event)
    rt = Runtime(fleet.settings.model_copy(update={"host_name": host_a.name}))
    since = int(time.time()) - 1
    made = container_ops.create(rt, ContainerConfig(image=TEST_IMAGE, cmd=["sh", "-c", "exit 4"]))
    rt.docker.api.start(made.id)
    rt.docker.api.wait(made.id, timeout=30)
    events = events_since(rt, made.id, since)
    assert [e.action for e in events] == ["create", "start", "die"]
    inspected = counted_inspects(monkeypatch)

    # When the follower applies its events
    applying(rt, events)

    # Then only the "start" was read from the engine (it found the exit already), and the
    # cache shows the exit with its code, as a fresh listing does
    assert inspected == [made.id]
    cached, fresh = cached_and_fresh(fleet, host_a)
    assert (cached.id, cached.status, cached.exit_code) == (fresh.id, "exited", 4)
    assert cached.finished_at == fleet.inspect_container(made.id).finished_at
    container_ops.remove(rt, made.id, force=True)


def test_a_container_started_at_once_is_read_at_its_start_only(
    fleet: Fleet, host_a: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a container made as a job's is (nothing written here at its create) and
    # started at once, its "create" applied by the follower before the start is sent
    rt = Runtime(fleet.settings.model_copy(update={"host_name": host_a.name}))
    image = images.inspect_if_present(rt.docker, TEST_IMAGE, rt.host)
    name = f"starts-at-once-{uuid.uuid4().hex[:8]}"
    config = ContainerConfig(image=TEST_IMAGE, cmd=["sh", "-c", "exit 5"], name=name)
    since = int(time.time()) - 1
    with state_cache.start_follows(name):
        made = container_ops.create(rt, config, image=image)
        [create] = events_since(rt, made.id, since)
        assert (create.action, create.name) == ("create", name)
        inspected = counted_inspects(monkeypatch)
        follower = applying(rt, [create])
        rt.docker.api.start(made.id)
    rt.docker.api.wait(made.id, timeout=30)

    # When the follower applies the rest of its events
    later = [e for e in events_since(rt, made.id, since) if e.action != "create"]
    assert [e.action for e in later] == ["start", "die"]
    for e in later:
        follower.apply(e)

    # Then the engine was asked once, at the "start", and the cache shows the exit with
    # its code, as a fresh listing does
    assert inspected == [made.id]
    cached, fresh = cached_and_fresh(fleet, host_a)
    assert (cached.id, cached.status, cached.exit_code) == (fresh.id, "exited", 5)
    assert cached.created == fleet.inspect_container(made.id).created

    # And outside the block a "create" is read as any other (with this process's writes
    # forgotten, as a resync forgets them)
    memory.forget_all()
    StateFollower(rt).apply(create)
    assert inspected == [made.id, made.id]
    container_ops.remove(rt, made.id, force=True)
