"""300 trivial jobs at once across two Docker hosts with max_containers=4 each.

All finish, both hosts share the work, the limit is never exceeded on either
host (sampled while the jobs run), and nothing is left behind.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Iterator

import docker
import pytest

from dockfleet import Fleet, JobSpec, Settings
from dockfleet.policy_model import SecurityPolicy
from tests.conftest import HEARTBEAT, LOCAL_DOCKER, TEST_IMAGE, random_name, worker_env
from tests.support.services import DockerDaemon, RedisServer, WorkerProcess

pytestmark = pytest.mark.chaos
JOBS = 300
LIMIT = 4


@pytest.fixture
def two_engines(local_engine: docker.DockerClient) -> Iterator[list[DockerDaemon]]:
    daemons = []
    try:
        for _ in range(2):
            daemon = DockerDaemon(secrets.token_hex(2), secrets.randbelow(200) + 20).start()
            daemons.append(daemon)
            daemon.load_image(TEST_IMAGE, LOCAL_DOCKER)
        yield daemons
    finally:
        for daemon in daemons:
            daemon.stop()


class LimitSampler:
    """Counts each host's fleet containers every 20 ms while jobs run; keeps the maximum."""

    def __init__(self, engines: dict[str, docker.DockerClient]) -> None:
        self.engines = engines
        self.peak: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LimitSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            for host, engine in self.engines.items():
                count = len(
                    engine.api.containers(all=True, filters={"label": f"dockfleet.host={host}"})
                )
                self.peak[host] = max(self.peak[host], count)
            self.samples += 1


def test_300_jobs_across_two_limited_hosts_all_finish_within_the_limit(
    two_engines: list[DockerDaemon], policy: SecurityPolicy
) -> None:
    redis = RedisServer().start()  # a fleet of its own: no other host may take these jobs
    hosts = [random_name("tx"), random_name("ty")]
    workers = [
        WorkerProcess(
            host, worker_env(redis.url, daemon.url, policy, DOCKFLEET_MAX_CONTAINERS=str(LIMIT))
        ).start()
        for host, daemon in zip(hosts, two_engines, strict=True)
    ]
    engines = {
        h: docker.DockerClient(base_url=d.url) for h, d in zip(hosts, two_engines, strict=True)
    }
    fleet = Fleet(Settings(redis_url=redis.url, heartbeat_interval=HEARTBEAT))
    try:
        for worker in workers:
            worker.wait_ready(redis.url)
        spec = {"container": {"image": TEST_IMAGE, "cmd": ["true"]}, "network": False}
        with LimitSampler(engines) as sampler:
            handles = [fleet.run_job(JobSpec.model_validate(spec)) for _ in range(JOBS)]
            results = [h.wait(timeout=600) for h in handles]
        assert [r.status for r in results] == ["succeeded"] * JOBS
        shares = Counter(r.host for r in results)
        print(
            f"\njobs per host: {dict(shares)}; peak containers: {dict(sampler.peak)}; "
            f"{sampler.samples} samples"
        )
        assert set(shares) == set(hosts) and min(shares.values()) >= JOBS // 10
        assert sampler.samples > 100 and max(sampler.peak.values()) <= LIMIT
        for host, engine in engines.items():
            assert (
                engine.containers.list(all=True, filters={"label": f"dockfleet.host={host}"}) == []
            )
    finally:
        fleet.close()
        for worker in workers:
            worker.stop()
        for engine in engines.values():
            engine.close()
        redis.stop()
