"""Services without a HEALTHCHECK are probed from inside the job network, by a probe container."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import docker
import pytest

from dockfleet import Fleet, JobSpec
from tests.conftest import TEST_IMAGE, Host
from tests.support.events import EventRecorder
from tests.support.two_service_job import build_slow_db

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def slow_service_image(local_engine: docker.DockerClient) -> Iterator[str]:
    # the job-file tests' "db": EXPOSE 5432, no HEALTHCHECK, listens late, needs its env
    tag = build_slow_db(local_engine)
    yield tag
    local_engine.images.remove(tag, force=True)


def spec(
    service_image: str, host: str, service_cmd: list[str] | None = None, **service: object
) -> JobSpec:
    container: dict[str, object] = {
        "image": service_image,
        "env": ["DB_USER=ci"],
        "secret_env": {"DB_PASSWORD": "pw-" + secrets.token_hex(8)},
    }
    if service_cmd:
        container["cmd"] = service_cmd
    return JobSpec.model_validate(
        {
            "container": {"image": TEST_IMAGE, "cmd": ["sh", "-c", "nc -w 2 db 5432 </dev/null"]},
            "services": [{"alias": "db", "container": container, **service}],
            "host": host,
            "timeout": 60,
        }
    )


def test_a_service_without_healthcheck_is_ready_once_its_port_answers_in_the_job_network(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient, slow_service_image: str
) -> None:
    # Given a service that opens its exposed port only a second after it starts
    with EventRecorder(local_engine, {"label": f"dockfleet.host={host_a.name}"}) as events:
        handle = fleet.run_job(spec(slow_service_image, host_a.name))
        lines = [line.line for line in handle.logs(follow=True)]
        result = handle.wait(60)
    # Then the job started only once the port answered, and reached it by its alias
    assert (result.status, lines) == ("succeeded", ["ready for ci"]), result.error
    # And the port was tried from inside the job network, by the job's probe container
    started = events.count("start")
    assert started[f"dfj-{handle.id}--probe-db"] == 1
    # And the probe removed itself: nothing of the job is left
    selector = {"label": f"dockfleet.job={handle.id}"}
    assert local_engine.containers.list(all=True, filters=selector) == []


def test_a_service_whose_port_never_opens_fails_the_job_and_its_probe_is_removed(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient, slow_service_image: str
) -> None:
    # Given the service's image run with a command that never opens its port
    never = spec(slow_service_image, host_a.name, ["sleep", "60"], readiness_timeout=2)
    result = fleet.run_job(never).wait(60)
    assert result.status == "error"
    assert "service 'db' did not become ready" in (result.error or "")
    assert "ports [5432] do not accept" in (result.error or "")
    selector = {"label": f"dockfleet.job={result.job_id}"}
    assert local_engine.containers.list(all=True, filters=selector) == []
