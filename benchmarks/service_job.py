"""Benchmark 7: a job with one service, by how the fleet knows the service is ready.

Three ways, interleaved, each a trivial job (``true``) beside one service that
listens at once:

- the fleet, service without exposed ports: running is ready, nothing waits (the floor);
- the fleet, service with an exposed port and no HEALTHCHECK: a probe container on
  the job network connects to it (what stock images such as postgres get);
- docker-py direct: the service and the job on a ready network, straight on the engine.

The probe's cost is the second row over the first.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import docker

from benchmarks import direct
from benchmarks.env import IMAGE, BenchEnv
from benchmarks.harness import Report, Table, interleaved, timed
from benchmarks.render import show
from dockfleet.models import ContainerConfig
from dockfleet.models.jobs import JobSpec, ServiceSpec

NAME = "services"
PORT = 6379
#: a service that answers on its port from the start, then closes the connection
LISTEN = f"while :; do nc -l -p {PORT} </dev/null; done"


def _service_image(env: BenchEnv, exposed: bool) -> str:
    tag = f"bench-service-{'exposed' if exposed else 'plain'}:{env.run_id}"
    dockerfile = f"FROM {IMAGE}\n" + (f"EXPOSE {PORT}\n" if exposed else "")
    dockerfile += f'CMD ["sh", "-c", "{LISTEN}"]\n'
    env.engine.images.build(
        fileobj=io.BytesIO(dockerfile.encode()), tag=tag, labels=env.direct_labels(), rm=True
    )
    return tag


def fleet_job(env: BenchEnv, host: str, service_image: str) -> Callable[[], None]:
    def run() -> None:
        service = ServiceSpec(alias="svc", container=ContainerConfig(image=service_image))
        spec = JobSpec(container=direct.config(["true"]), services=[service], host=host)
        result = env.fleet.run_job(spec).wait(timeout=120)
        if result.status != "succeeded":
            raise RuntimeError(f"fleet job {result.job_id}: {result.status} {result.error}")

    return run


def direct_job(env: BenchEnv, network: str, service_image: str) -> Callable[[], None]:
    api: docker.APIClient = env.engine.api
    labels = env.direct_labels()

    def run() -> None:
        service = api.create_container(
            image=service_image,
            labels=labels,
            host_config=api.create_host_config(network_mode=network),
            networking_config={"EndpointsConfig": {network: {"Aliases": ["svc"]}}},
        )["Id"]
        api.start(service)
        direct.run_job(api, labels, on_network=network)
        api.remove_container(service, force=True)

    return run


def run(env: BenchEnv, report: Report) -> None:
    host = env.main_host()
    plain, exposed = _service_image(env, False), _service_image(env, True)
    network = f"bench-svc-{env.run_id}"
    ready = env.engine.networks.create(network, labels=env.direct_labels())
    try:
        table = report.table(Table("Job with one service, one at a time", "ms per job"))
        base = "docker-py direct, service + job"
        floor = "fleet, service without ports (running is ready)"
        probed = "fleet, service with a port, probed in the job network"
        samples = interleaved(
            {
                base: timed(direct_job(env, network, plain)),
                floor: timed(fleet_job(env, host, plain)),
                probed: timed(fleet_job(env, host, exposed)),
            },
            repeats=env.repeats(10, 1),
        )
        table.add(base, samples[base])
        table.add(floor, samples[floor], base)
        table.add(probed, samples[probed], floor, "the probe's cost")
        show(table)
        cost = table.row(probed).median - table.row(floor).median
        report.target("service probe costs ≤ 300 ms a job", f"{cost:.0f} ms", cost <= 300)
    finally:
        ready.remove()
        for tag in (plain, exposed):
            env.engine.images.remove(tag, force=True)
