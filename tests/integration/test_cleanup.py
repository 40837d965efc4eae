"""Cleanup on a real engine: what the fleet left behind goes; everything else stays.

The maintenance host's worker runs with 3-s grace ages, a one-byte image budget
(so every eligible image is evicted), a one-hour minimum image age and the pin
``dockfleet-test-pinned-*``.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import docker
import pytest
import redis

from dockfleet import Fleet, keys
from tests.conftest import LOCAL_DOCKER, MAINTENANCE_GRACE, Host
from tests.support import planting

OLD = 2 * 24 * 3600.0


@dataclass
class Planted:
    """What a test planted, by what must happen to it."""

    must_go: set[str] = field(default_factory=set)
    must_stay: set[str] = field(default_factory=set)
    #: the container stopped last, within its grace (it passes it a few seconds later)
    young: str = ""


@pytest.fixture
def planted_cleanup(
    fleet: Fleet, maintenance_host: Host, local_engine: docker.DockerClient, redis_url: str
) -> Iterator[Planted]:
    engine, host = local_engine, maintenance_host.name
    tag = secrets.token_hex(3)
    plan = Planted()
    client = redis.Redis.from_url(redis_url)
    unlabelled = {planting.TEST_LABEL: "1"}

    # Containers: two stopped past the grace (go); running, unlabelled, a leased job's (stay)
    for _ in range(2):
        plan.must_go.add(planting.stopped(engine, planting.fleet_labels_for(host)).id)
    running = planting.container(engine, planting.fleet_labels_for(host))
    plan.must_stay.add(running.id)
    for _ in range(3):
        plan.must_stay.add(planting.stopped(engine, unlabelled).id)
    leased_job = f"job-{tag}"
    client.set(keys.job_lease(leased_job), "worker-x", ex=120)
    plan.must_stay.add(planting.stopped(engine, planting.fleet_labels_for(host, job=leased_job)).id)

    # Networks: an old empty fleet network (goes); old but used, young, unlabelled (stay)
    old = planting.fleet_labels_for(host, age=OLD)
    plan.must_go.add(engine.networks.create(f"tclean-empty-{tag}", labels=old).id)
    used = engine.networks.create(f"tclean-used-{tag}", labels=old)
    used.connect(running)
    plan.must_stay.add(used.id)
    for i in range(2):
        plan.must_stay.add(
            engine.networks.create(f"tclean-foreign-{tag}-{i}", labels=unlabelled).id
        )

    # Images: an old unused fleet image (goes); pinned, young, in use, unlabelled (stay).
    # Random content: identical layers made within one second would be shared.
    def image(repo: str, labels: dict[str, str]) -> str:
        source = planting.container(
            engine, labels, cmd=["dd", "if=/dev/urandom", "of=/blob", "bs=1k", "count=100"]
        )
        source.wait(timeout=30)
        made = source.commit(repository=repo, tag=tag, conf={"Labels": labels})
        source.remove()
        return str(made.id)

    plan.must_go.add(image("dockfleet-test-old", old))
    plan.must_stay.add(image("dockfleet-test-pinned-base", old))
    plan.must_stay.add(image("dockfleet-test-young", planting.fleet_labels_for(host)))
    in_use = image("dockfleet-test-inuse", old)
    engine.containers.run(
        f"dockfleet-test-inuse:{tag}", ["sleep", "600"], detach=True, labels=unlabelled
    )
    plan.must_stay.add(in_use)
    plan.must_stay.add(image("dockfleet-test-foreign", unlabelled))

    time.sleep(MAINTENANCE_GRACE + 0.5)  # the stopped ones pass their grace age
    # A container stopped just now stays (within its grace)
    plan.young = planting.stopped(engine, planting.fleet_labels_for(host)).id
    plan.must_stay.add(plan.young)
    yield plan

    client.delete(keys.job_lease(leased_job))
    for c in engine.containers.list(all=True, filters={"label": planting.TEST_LABEL}):
        c.remove(force=True)
    for n in engine.networks.list(filters={"label": planting.TEST_LABEL}):
        n.remove()
    for i in engine.images.list(filters={"label": planting.TEST_LABEL}):
        engine.images.remove(i.id, force=True)


def _exists(engine: docker.DockerClient, object_id: str) -> bool:
    for getter in (engine.containers.get, engine.networks.get, engine.images.get):
        try:
            getter(object_id)
            return True
        except docker.errors.NotFound:
            continue
    return False


def test_cleanup_removes_what_the_fleet_left_and_never_anything_else(
    fleet: Fleet,
    maintenance_host: Host,
    local_engine: docker.DockerClient,
    planted_cleanup: Planted,
    redis_url: str,
) -> None:
    # Given the planted objects (see the fixture)
    plan = planted_cleanup

    # When a dry run is asked for
    (dry,) = fleet.cleanup(host=maintenance_host.name, dry_run=True)
    # Then it plans exactly what must go, and removes nothing
    assert dry.dry_run and {r.id for r in dry.removed} == plan.must_go
    assert all(_exists(local_engine, i) for i in plan.must_go | plan.must_stay)

    # When cleanup runs for real
    started = time.perf_counter()
    (real,) = fleet.cleanup(host=maintenance_host.name)
    print(
        f"\ncleanup removed {len(real.removed)} objects, {real.bytes_reclaimed} bytes "
        f"in {real.duration_ms:.0f} ms (round trip {time.perf_counter() - started:.2f} s)"
    )
    # Then it removed the same plan, and only that
    assert {(r.kind, r.id) for r in real.removed} == {(r.kind, r.id) for r in dry.removed}
    assert not any(_exists(local_engine, i) for i in plan.must_go)
    assert all(_exists(local_engine, i) for i in plan.must_stay)
    assert {r.kind for r in real.removed} == {"container", "network", "image"}
    assert real.bytes_reclaimed >= 100 * 1024 and real.usage_basis == "budget"

    # And the run is on record for the exporter
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    totals = client.hgetall(keys.maintenance_totals(maintenance_host.name))
    assert int(totals["removed_container"]) >= 2 and int(totals["removed_image"]) >= 1
    assert client.xlen(keys.cleanup_reports(maintenance_host.name)) >= 2


def test_cli_cleanup_dry_run_reports_in_json_and_a_table(
    fleet: Fleet,
    maintenance_host: Host,
    planted_cleanup: Planted,
    redis_url: str,
    local_engine: docker.DockerClient,
) -> None:
    # Not the young container: its grace ends within seconds, between the two dry runs
    local_engine.containers.get(planted_cleanup.young).remove(force=True)
    dockfleet = str(Path(sys.executable).with_name("dockfleet"))
    env = {**os.environ, "DOCKFLEET_REDIS_URL": redis_url, "DOCKFLEET_HEARTBEAT_INTERVAL": "1"}
    args = [dockfleet, "cleanup", "--host", maintenance_host.name, "--dry-run"]
    as_json = subprocess.run(
        [*args, "--json"], capture_output=True, text=True, env=env, timeout=120
    )
    assert as_json.returncode == 0, as_json.stderr
    (report,) = json.loads(as_json.stdout)
    assert {r["id"] for r in report["removed"]} == planted_cleanup.must_go
    shown = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "WOULD REMOVE 2 containers, 1 networks, 1 images" in shown.stdout
    assert "dockfleet-test-old" in shown.stdout


def test_images_are_evicted_least_recently_used_first_until_the_low_watermark(
    local_engine: docker.DockerClient, redis_url: str
) -> None:
    from datetime import UTC, datetime

    from dockfleet import CleanupReport, Settings
    from worker.maintenance import image_gc
    from worker.runtime import Runtime

    # Given three old, unused fleet images of 100 KiB each, last used 300, 100 and 200 s ago
    host = f"tl-{secrets.token_hex(3)}"
    labels = planting.fleet_labels_for(host, age=OLD)
    made = {}
    for name in ("a", "b", "c"):
        source = planting.container(
            local_engine, labels, cmd=["dd", "if=/dev/urandom", "of=/blob", "bs=1k", "count=100"]
        )
        source.wait(timeout=30)
        made[name] = str(
            source.commit(
                repository=f"dockfleet-test-lru-{name}", tag=host, conf={"Labels": labels}
            ).id
        )
        source.remove()
    client = redis.Redis.from_url(redis_url)
    now = time.time()
    client.zadd(
        keys.image_last_use(host),
        {made["a"]: now - 300, made["b"]: now - 100, made["c"]: now - 200},
    )
    try:
        # And a budget where usage is over the high watermark, and freeing about
        # one and a half images brings it under the low one
        layers = int(local_engine.api.df()["LayersSize"])
        budget = layers * 100 // 60  # 60 % used
        low = (layers - 150 * 1024) / budget * 100
        rt = Runtime(
            Settings(
                redis_url=redis_url,
                docker_host=LOCAL_DOCKER,
                host_name=host,
                cleanup={
                    "image_budget_bytes": budget,
                    # between the low watermark and the 60 % in use, whatever else the
                    # engine holds (a big cached image makes the two close)
                    "image_high_watermark": (60 + low) / 2,
                    "image_low_watermark": low,
                    "image_min_age": 60,
                },
            )
        )
        # When the eviction is planned
        report = CleanupReport(host=host, dry_run=True, started_at=datetime.now(UTC))
        planned = image_gc.plan(rt, time.time(), report)
        # Then the least recently used go first (a, then c), and it stops there
        print(
            f"\nimage use {report.usage_percent:.1f}% of the budget; evicting "
            f"{[p.name for p in planned]}"
        )
        assert [p.id for p in planned] == [made["a"], made["c"]]
        assert all(p.size == 100 * 1024 for p in planned)
    finally:
        for image_id in made.values():
            local_engine.images.remove(image_id, force=True)
        client.delete(keys.image_last_use(host))
