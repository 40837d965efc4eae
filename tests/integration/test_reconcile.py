"""Reconcile on a real engine: a dead job's objects are reaped after the grace, nothing else;
containers past their max lifetime are stopped and removed.

The job runner's records are written here as it writes them (`keys.job`,
`keys.job_lease` with a TTL it renews): a worker "killed and never back" is a
lease that stops being renewed and expires.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import docker
import pytest
import redis

from dockfleet import ContainerConfig, Fleet, keys
from tests.conftest import MAINTENANCE_GRACE, Host
from tests.support import planting


@pytest.fixture
def engine(local_engine: docker.DockerClient) -> Iterator[docker.DockerClient]:
    yield local_engine
    for c in local_engine.containers.list(all=True, filters={"label": planting.TEST_LABEL}):
        c.remove(force=True)
    for n in local_engine.networks.list(filters={"label": planting.TEST_LABEL}):
        n.remove()


def _ids(engine: docker.DockerClient, job: str) -> set[str]:
    label = {"label": f"dockfleet.job={job}"}
    containers = {c.id for c in engine.containers.list(all=True, filters=label)}
    return containers | {n.id for n in engine.networks.list(filters=label)}


def test_reconcile_reaps_a_dead_jobs_objects_after_the_grace_and_nothing_else(
    fleet: Fleet, maintenance_host: Host, engine: docker.DockerClient, redis_url: str
) -> None:
    host = maintenance_host.name
    client = redis.Redis.from_url(redis_url)
    tag = secrets.token_hex(3)
    dead, alive, done = f"dead-{tag}", f"alive-{tag}", f"done-{tag}"
    # Given a running job whose worker was killed: its lease runs out, nobody renews it
    client.hset(keys.job(dead), mapping={"state": "running", "host": host})
    client.set(keys.job_lease(dead), "worker-killed", px=1500)
    network = engine.networks.create(
        f"job-{dead}", labels=planting.fleet_labels_for(host, job=dead)
    )
    for _ in range(2):
        c = planting.container(engine, planting.fleet_labels_for(host, job=dead))
        network.connect(c)
    # And a job still running with its lease held, a finished job's leftover container
    client.hset(keys.job(alive), mapping={"state": "running", "host": host})
    client.set(keys.job_lease(alive), "worker-ok", ex=120)
    planting.container(engine, planting.fleet_labels_for(host, job=alive))
    client.hset(keys.job(done), mapping={"state": "finished", "host": host})
    planting.stopped(engine, planting.fleet_labels_for(host, job=done))
    # And objects that belong to no job, or not to the fleet at all
    plain = planting.container(engine, planting.fleet_labels_for(host))
    foreign = planting.container(engine, {planting.TEST_LABEL: "1", "dockfleet.job": dead})
    dead_ids, alive_ids, done_ids = _ids(engine, dead), _ids(engine, alive), _ids(engine, done)
    dead_ids.discard(foreign.id)

    # When reconcile runs before the grace has passed
    time.sleep(1.6)  # the dead job's lease has expired
    (early,) = fleet.reconcile(host=host)
    # Then nothing is removed yet; the dead and finished jobs' objects are suspects
    assert early.removed == [] and early.suspects == len(dead_ids) + len(done_ids)

    # When it runs again after the grace (first as a dry run)
    time.sleep(MAINTENANCE_GRACE + 0.2)
    (dry,) = fleet.reconcile(host=host, dry_run=True)
    (real,) = fleet.reconcile(host=host)

    # Then the dead and finished jobs' objects are gone, containers before the network
    assert {r.id for r in dry.removed} == {r.id for r in real.removed} == dead_ids | done_ids
    assert [r.kind for r in real.removed][-1] == "network" and not real.errors
    assert _ids(engine, done) == set() and _ids(engine, dead) == {foreign.id}
    # And the running job, the jobless fleet container and the foreign one are untouched
    assert _ids(engine, alive) == alive_ids
    engine.containers.get(plain.id)
    assert engine.containers.get(foreign.id).status == "running"
    assert any("running and nobody holds its lease" in r.reason for r in real.removed)
    totals = redis.Redis.from_url(redis_url, decode_responses=True).hgetall(
        keys.maintenance_totals(host)
    )
    assert int(totals["reaped_container"]) >= 3 and int(totals["reaped_network"]) >= 1
    for job in (dead, alive, done):
        client.delete(keys.job(job), keys.job_lease(job))


def test_a_container_past_its_max_lifetime_is_stopped_and_removed(
    fleet: Fleet, maintenance_host: Host, engine: docker.DockerClient
) -> None:
    # Given two running fleet containers, one with a 1-s lifetime, one with an hour
    config = ContainerConfig(image=planting.TEST_IMAGE, cmd=["sleep", "300"])
    short = fleet.create_container(
        config.model_copy(update={"max_lifetime": 1}), host=maintenance_host.name
    )
    long = fleet.create_container(
        config.model_copy(update={"max_lifetime": 3600}), host=maintenance_host.name
    )
    for info in (short, long):
        fleet.start_container(info.id)
    time.sleep(2.1)  # the deadline label has a one-second resolution

    # When reconcile runs
    (report,) = fleet.reconcile(host=maintenance_host.name)

    # Then only the one past its deadline is gone
    assert [r.id for r in report.removed] == [short.id]
    assert "max lifetime" in report.removed[0].reason
    with pytest.raises(docker.errors.NotFound):
        engine.containers.get(short.id)
    assert engine.containers.get(long.id).status == "running"
    fleet.remove_container(long.id, force=True)
