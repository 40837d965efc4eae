"""Exactly once when a worker is paused past its lease or its lock (issue 14, races R1-R3).

Real Redis, real worker processes, the real engine. A worker is paused with
SIGSTOP (all its threads: it neither renews nor notices anything) across the
TTL of what it holds, then let go with SIGCONT. However the two workers
interleave, a job runs once, is reported once, and its log has each line once.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import docker
import redis

from dockfleet import Fleet, JobHandle, keys
from dockfleet.queues import SHARED_QUEUE, TaskNames
from dockfleet.store.broker_messages import UNACKED_KEY
from tests.conftest import LOCAL_DOCKER, Host, random_name, remove_host_objects
from tests.support.events import EventRecorder
from tests.support.faulty_engine import FaultyEngine, faulty_engine
from tests.support.services import WorkerProcess, wait_for
from tests.support.worker_hosts import WorkerHost, bare_host, counting, log_lines, pid
from worker.ops.slots import LOCK_TTL_SECONDS

LEASE_SECONDS = 3
#: what a Celery worker logs when a job's task is over, whatever its end
TASK_OVER = re.compile(r"Task dockfleet\.jobs\.run\[[^]]+\] (succeeded|ignored|raised)")


#: a host whose workers each test starts, pauses and kills; short leases
race = bare_host(
    "tr", DOCKFLEET_JOB_LEASE_SECONDS=str(LEASE_SECONDS), DOCKFLEET_WORKER_CONCURRENCY="4"
)


def recorder_for(engine: docker.DockerClient, host: str) -> EventRecorder:
    return EventRecorder(engine, {"label": f"dockfleet.host={host}"})


@contextmanager
def engine_holding_creates(
    engine: docker.DockerClient, race: WorkerHost
) -> Iterator[tuple[FaultyEngine, EventRecorder]]:
    """A proxy before the local engine that holds a container create when asked, and a
    recorder of the host's container events."""
    with faulty_engine(LOCAL_DOCKER, faults=0) as proxy, recorder_for(engine, race.name) as seen:
        yield proxy, seen


def held_create(
    fleet: Fleet, race: WorkerHost, proxy: FaultyEngine, **settings: str
) -> tuple[WorkerProcess, JobHandle]:
    """A worker on `proxy` and its job ``echo one``, once the job's create is held there
    (the worker holds the host's slot lock meanwhile)."""
    worker = race.start_worker(proxy.url, **settings)
    proxy.hold_next_create()
    handle = fleet.run_job(race.job("echo one"))
    assert proxy.wait_holding(30)
    return worker, handle


def most_running_at_once(events: list[dict[str, Any]]) -> int:
    running, most = 0, 0
    for event in sorted(events, key=lambda e: int(e["timeNano"])):
        if event.get("Action") == "start":
            running += 1
        elif event.get("Action") == "die":
            running -= 1
        most = max(most, running)
    return most


# -- R1: a worker paused past its lease while another adopts the job ----------------------


def test_a_worker_woken_while_its_adopter_runs_the_job_adds_no_line_and_no_report(
    fleet: Fleet, local_engine: docker.DockerClient, race: WorkerHost
) -> None:
    # Given a job running on a worker that is then paused past its lease
    with recorder_for(local_engine, race.name) as recorder:
        first, handle = race.pause_mid_job(fleet, race.job(counting(24, 0.3), code=3), lines=3)

        # When a second worker adopts the job, and the first wakes up while it runs
        second = race.start_worker()
        wait_for(lambda: race.holder_pid(handle.id) == pid(second), 30, "the adoption")
        wait_for(lambda: len(log_lines(handle)) >= 10, 30, "the adopter's lines")
        race.resume(first)
        result = handle.wait(timeout=90)

    # Then the job ran once and was reported once, by the adopter, with every line once
    assert (result.status, result.exit_code, result.adopted) == ("failed", 3, True)
    assert log_lines(handle) == [f"line-{i}" for i in range(1, 25)]
    assert race.ends(handle.id) == 1
    assert recorder.count("create") == {f"dfj-{handle.id}": 1}
    wait_for(lambda: "another worker adopted it" in first.log_path.read_text(), 30, "the stop")
    assert local_engine.containers.list(all=True, filters={"name": f"dfj-{handle.id}"}) == []


def test_a_worker_woken_after_its_adopter_reported_the_job_changes_nothing(
    fleet: Fleet, local_engine: docker.DockerClient, race: WorkerHost
) -> None:
    # Given a job whose worker is paused past its lease; its container exits meanwhile
    with recorder_for(local_engine, race.name) as recorder:
        first, handle = race.pause_mid_job(fleet, race.job(counting(8, 0.2), code=5), lines=1)
        name = f"dfj-{handle.id}"
        wait_for(lambda: local_engine.containers.get(name).status == "exited", 30, "the job's exit")

        # When another worker adopts and reports it, and then the first one wakes up
        race.start_worker()
        result = handle.wait(timeout=60)
        entries = race.client.xlen(keys.job_log(handle.id))
        race.resume(first)
        wait_for(lambda: bool(TASK_OVER.search(first.log_path.read_text())), 30, "its task's end")

    # Then nothing more was written and nothing ran again: one run, one report, each line once
    assert (result.status, result.exit_code, result.adopted) == ("failed", 5, True)
    assert race.client.xlen(keys.job_log(handle.id)) == entries
    assert log_lines(handle) == [f"line-{i}" for i in range(1, 9)]
    assert race.ends(handle.id) == 1
    assert recorder.count("create") == {name: 1}
    assert "another worker adopted it" in first.log_path.read_text()
    assert local_engine.containers.list(all=True, filters={"name": name}) == []


# -- R2: a shared-queue message that comes back to another host ----------------------------


def in_flight(client: redis.Redis, task_id: str) -> bool:
    """Whether a message of `task_id` still waits in the shared queue or is being worked on."""
    lists = [SHARED_QUEUE, *(f"{SHARED_QUEUE}\x06\x16{step}" for step in (3, 6, 9))]
    waiting = [m for name in lists for m in client.lrange(name, 0, -1)]
    delivered = client.hvals(UNACKED_KEY)
    return any(task_id in message for message in [*waiting, *delivered])


def test_a_running_job_redelivered_to_another_host_does_not_run_there(
    fleet: Fleet, local_engine: docker.DockerClient, race: WorkerHost
) -> None:
    # Given a job running on host X, whose worker is paused past its lease, and a worker of
    # another host Y that takes shared jobs
    other = WorkerProcess(random_name("ty"), race.env).start()
    race.host.workers.append(other)
    other.wait_ready(race.redis_url)
    with EventRecorder(local_engine, {"label": "dockfleet.managed=true"}) as recorder:
        first, handle = race.pause_mid_job(fleet, race.job(counting(10, 0.3), code=2), lines=2)
        time.sleep(LEASE_SECONDS + 1)
        assert not race.client.exists(keys.job_lease(handle.id))

        # When its message comes back in the shared queue, as kombu restores one whose
        # visibility timeout has passed, and a worker of host Y takes it
        wire = race.client.hget(keys.job(handle.id), "spec")
        assert wire is not None
        again = fleet.transport.send(
            TaskNames.JOB_RUN, [json.loads(wire), handle.id], SHARED_QUEUE, timeout=None
        )
        wait_for(lambda: not in_flight(race.client, again.id), 30, "the other host to take it")
        time.sleep(1)  # what a run there would write first (the claim) has landed by now

        # Then it does nothing there; the job's own worker, once back, finishes it once
        assert race.client.hget(keys.job(handle.id), "host") == race.name
        race.resume(first)
        result = handle.wait(timeout=60)
    assert (result.host, result.status, result.exit_code) == (race.name, "failed", 2)
    assert log_lines(handle) == [f"line-{i}" for i in range(1, 11)]
    assert race.ends(handle.id) == 1
    created = [e for e in recorder.events if e.get("Action") == "create"]
    assert [e["Actor"]["Attributes"]["name"] for e in created if handle.id in str(e)] == [
        f"dfj-{handle.id}"
    ]
    remove_host_objects(Host(other.host, LOCAL_DOCKER, local_engine))


# -- R3: the host's container-slot lock ------------------------------------------------------


def test_a_worker_that_dies_holding_the_slot_lock_frees_it_within_its_short_ttl(
    fleet: Fleet, local_engine: docker.DockerClient, race: WorkerHost
) -> None:
    with engine_holding_creates(local_engine, race) as (proxy, recorder):
        # Given a worker that holds the host's slot lock, its create stuck in the engine
        holder, stuck = held_create(fleet, race, proxy)
        assert race.client.exists(keys.host_slots_lock(race.name))

        # When that worker dies, and another job comes to the host
        holder.kill()
        proxy.drop()
        died = time.monotonic()
        race.start_worker()
        later = fleet.run_job(race.job("echo two"))
        second = later.wait(timeout=60)
        waited = time.monotonic() - died
        # (the dead worker's job is adopted by the new one, and made by it)
        first = stuck.wait(timeout=60)

    # Then the lock was free again within its TTL (not a minute), and both jobs ran once
    assert (second.status, log_lines(later)) == ("succeeded", ["two"])
    assert waited < LOCK_TTL_SECONDS + 20
    assert (first.status, log_lines(stuck)) == ("succeeded", ["one"])
    assert recorder.count("create") == {f"dfj-{stuck.id}": 1, f"dfj-{later.id}": 1}


def test_a_job_waits_its_turn_behind_a_slow_create_instead_of_failing(
    fleet: Fleet, local_engine: docker.DockerClient, race: WorkerHost
) -> None:
    with engine_holding_creates(local_engine, race) as (proxy, recorder):
        # Given a create that the engine takes longer than the slot lock's TTL to answer
        _, first = held_create(fleet, race, proxy, DOCKFLEET_DEFAULT_TIMEOUT="60")
        held = time.monotonic()

        # When another job comes to the host, on a worker whose operations time out sooner
        race.start_worker(DOCKFLEET_DEFAULT_TIMEOUT="4")
        second = fleet.run_job(race.job("echo two"))
        time.sleep(max(0.0, held + LOCK_TTL_SECONDS + 4 - time.monotonic()))

        # Then it waits for the lock, kept by the slow create past its TTL, and runs after it
        assert local_engine.containers.list(all=True, filters={"name": f"dfj-{second.id}"}) == []
        assert race.client.hget(keys.job(second.id), "state") == "running"
        proxy.release()
        results = [first.wait(timeout=60), second.wait(timeout=60)]
    assert [r.status for r in results] == ["succeeded", "succeeded"]
    creates = [e["Actor"]["Attributes"]["name"] for e in recorder.events if e["Action"] == "create"]
    assert creates == [f"dfj-{first.id}", f"dfj-{second.id}"]


def test_a_worker_paused_past_the_slot_lock_counts_again_and_keeps_max_containers(
    fleet: Fleet, local_engine: docker.DockerClient, race: WorkerHost
) -> None:
    one_slot = {"DOCKFLEET_MAX_CONTAINERS": "1", "DOCKFLEET_JOB_LEASE_SECONDS": "60"}
    with engine_holding_creates(local_engine, race) as (proxy, recorder):
        # Given a host with one slot, and a worker paused in its create, holding the lock
        paused, first = held_create(fleet, race, proxy, DOCKFLEET_DEFAULT_TIMEOUT="60", **one_slot)
        race.pause(paused)

        # When the lock lapses and another worker creates and starts a job in the one slot
        race.start_worker(**one_slot)
        second = fleet.run_job(race.job("echo two; sleep 6"))
        wait_for(lambda: log_lines(second) == ["two"], 60, "the second job to run")
        # ... and then the paused create lands, and its worker wakes up
        proxy.release()
        wait_for(
            lambda: local_engine.containers.list(all=True, filters={"name": f"dfj-{first.id}"}),
            30,
            "the paused create to land",
        )
        race.resume(paused)
        results = [first.wait(timeout=90), second.wait(timeout=60)]

    # Then the woken worker counted again, gave its container back, and waited for the slot
    assert [r.status for r in results] == ["succeeded", "succeeded"]
    assert [log_lines(first), log_lines(second)] == [["one"], ["two"]]
    assert most_running_at_once(recorder.events) == 1
    assert recorder.count("create")[f"dfj-{first.id}"] == 2
    assert recorder.count("start")[f"dfj-{first.id}"] == 1
