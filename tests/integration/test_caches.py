"""Job caches through real workers, Redis and the engine: kept between jobs, listed,
removed (never while mounted), evicted by last use under the disk watermarks."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

import docker
import redis

from dockfleet import Fleet, JobSpec
from dockfleet.client.job_handle import JobHandle
from dockfleet.store import cache_use
from tests.conftest import TEST_IMAGE, Host, local_host, remove_host_objects
from tests.support.cli import FLEET_FAILED, one_error_line, run_dockfleet
from tests.support.refusals import creates_since

#: the local engine with the disk watermarks forced down: any disk use is over them
evicting_host = local_host(
    "tv",
    DOCKFLEET_CLEANUP__IMAGE_HIGH_WATERMARK="0.01",
    DOCKFLEET_CLEANUP__IMAGE_LOW_WATERMARK="0",
    DOCKFLEET_CLEANUP__IMAGE_MIN_AGE="3600",
)
HOUR = 3600.0


def cache_job(host: str, script: str, *caches: str, **fields: object) -> JobSpec:
    container = {"image": TEST_IMAGE, "cmd": ["sh", "-c", script]}
    return JobSpec.model_validate(
        {"container": container, "host": host, "caches": list(caches), **fields}
    )


def new_key() -> str:
    return f"test-{secrets.token_hex(3)}"


@contextmanager
def mounting(fleet: Fleet, host: str, key: str) -> Iterator[JobHandle]:
    """A job of `host` running with cache `key` mounted, canceled on the way out."""
    handle = fleet.run_job(cache_job(host, "echo up; sleep 300", f"{key}:/cache", stop_grace=1))
    assert next(iter(handle.logs(follow=True))).line == "up"
    try:
        yield handle
    finally:
        handle.cancel()
        assert handle.wait(30).status == "canceled"


def test_a_cache_written_by_one_job_is_read_by_the_next_on_its_host(
    fleet: Fleet, host_a: Host, redis_url: str, local_engine: docker.DockerClient
) -> None:
    # Given a job (as the policy's non-root default user) that fills a new cache
    key = new_key()
    write = "test -f /cache/deps || { echo fetched > /cache/deps; echo cold; }; cat /cache/deps"
    first = fleet.run_job(cache_job(host_a.name, write, f"{key}:/cache"))
    result = first.wait(60)
    assert result.status == "succeeded", result.error
    assert [line.line for line in first.logs(follow=False)] == ["cold", "fetched"]

    # When the next job of the host names the same key (from a pipeline step)
    flags = ["--host", host_a.name, "--cache", f"{key}:/cache"]
    second = run_dockfleet("run", *flags, TEST_IMAGE, "sh", "-c", write, redis_url=redis_url)

    # Then it finds what the first wrote, in the fleet's labelled volume of the key
    assert (second.returncode, second.stdout) == (0, "fetched\n"), second.stderr
    labels = local_engine.volumes.get(f"dfc-{key}").attrs["Labels"]
    assert labels["dockfleet.cache"] == key and labels["dockfleet.host"] == host_a.name
    assert labels["dockfleet.managed"] == "true"
    # And the tests' sweep by label leaves no volume of the host behind
    remove_host_objects(host_a)
    assert not local_engine.volumes.list(filters={"label": f"dockfleet.host={host_a.name}"})


def test_a_bad_cache_key_is_refused_before_anything_runs(
    fleet: Fleet, host_a: Host, redis_url: str, local_engine: docker.DockerClient
) -> None:
    since_ns = time.time_ns()
    for bad in ("../etc:/cache", "a/b:/cache", "my..key:/cache", "ok:relative"):
        result = run_dockfleet(
            "run", "--host", host_a.name, "--cache", bad, TEST_IMAGE, "true", redis_url=redis_url
        )
        assert result.returncode == FLEET_FAILED, result
        one_error_line(result, "cache")
    label = f"dockfleet.host={host_a.name}"
    assert creates_since(local_engine, since_ns, kinds=("container",), label=label) == []


def test_cache_ls_and_rm_which_is_refused_while_a_running_job_mounts_it(
    fleet: Fleet, host_a: Host, redis_url: str, local_engine: docker.DockerClient
) -> None:
    key = new_key()
    with mounting(fleet, host_a.name, key) as handle:
        # The listing names the key, its host and the job's container using it
        listed = run_dockfleet("cache", "ls", "--host", host_a.name, "--json", redis_url=redis_url)
        rows = {row["key"]: row for row in json.loads(listed.stdout)}
        assert rows[key]["host"] == host_a.name and rows[key]["last_used"]
        assert rows[key]["in_use"] == [f"dfj-{handle.id}"] and rows[key]["size"] is not None
        table = run_dockfleet("cache", "ls", "--host", host_a.name, redis_url=redis_url).stdout
        assert table.split("\n")[0].split() == ["KEY", "HOST", "SIZE", "LAST", "USED", "IN", "USE"]
        # And its removal is refused, naming the rule
        refused = run_dockfleet("cache", "rm", key, "--host", host_a.name, redis_url=redis_url)
        one_error_line(refused, "cache-in-use", f"dfj-{handle.id}")
        assert local_engine.volumes.list(filters={"name": f"dfc-{key}"})
    # Once the job is over it goes
    removed = run_dockfleet("cache", "rm", key, "--host", host_a.name, redis_url=redis_url)
    assert removed.returncode == 0 and "removed" in removed.stdout, removed
    assert not local_engine.volumes.list(filters={"name": f"dfc-{key}"})
    assert key not in {c.key for c in fleet.list_caches(host_a.name)}


def test_eviction_takes_the_least_recently_used_cache_and_spares_a_mounted_one(
    fleet: Fleet, evicting_host: Host, redis_url: str, local_engine: docker.DockerClient
) -> None:
    # Given three caches of the host: two last used hours ago, the oldest of them mounted
    # by a running job, and one just used
    host = evicting_host.name
    old, older, mounted = new_key(), new_key(), new_key()
    for key in (old, older):
        job = fleet.run_job(cache_job(host, "echo x > /c/f", f"{key}:/c"))
        assert job.wait(60).status == "succeeded"
    client = redis.Redis.from_url(redis_url)
    with mounting(fleet, host, mounted):
        now = time.time()
        for key, hours in ((old, 1), (older, 2), (mounted, 3)):
            cache_use.touch(client, host, key, at=now - hours * HOUR)

        # When cleanup runs with disk use over the (forced) high watermark
        report = fleet.cleanup(host=host)[0]

        # Then it evicted the unmounted caches, oldest last use first, and kept the mounted one
        evicted = [item.name for item in report.of_kind("cache")]
        assert evicted == [older, old], report
        left = {
            v.name for v in local_engine.volumes.list(filters={"label": f"dockfleet.host={host}"})
        }
        assert left == {f"dfc-{mounted}"}
        assert set(cache_use.last_use(client, host)) == {mounted}
    client.close()
