"""Structured logs: a worker with DOCKFLEET_LOG_FORMAT=json logs every state change as JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dockfleet import ContainerConfig, Fleet, JobSpec
from dockfleet.models import ServiceSpec
from tests.conftest import TEST_IMAGE, Host, local_host
from tests.support.services import wait_for

pytestmark = pytest.mark.engine


json_host = local_host("tj", DOCKFLEET_LOG_FORMAT="json")


def read_json_log(host: Host) -> list[dict[str, Any]]:
    text = host.workers[0].log_path.read_text()
    lines = [line for line in text.splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"a line of the JSON log is not JSON: {line!r}")
    return records


def test_json_worker_log_has_the_start_and_finish_of_a_job_with_its_id_and_host(
    session_fleet: Fleet, json_host: Host
) -> None:
    # Given a worker logging JSON, when a job with a service runs on its host
    spec = JobSpec(
        container=ContainerConfig(image=TEST_IMAGE, cmd=["sh", "-c", "echo logged; exit 3"]),
        services=[
            ServiceSpec(
                alias="side", container=ContainerConfig(image=TEST_IMAGE, cmd=["sleep", "30"])
            )
        ],
        host=json_host.name,
        timeout=60,
    )
    result = session_fleet.run_job(spec).wait(timeout=60)
    assert result.status == "failed" and result.exit_code == 3

    # Then every line of its log is a JSON object, and the job's events are there
    # (job.finished is written just after the result is stored: wait for it)
    wait_for(
        lambda: '"job.finished"' in json_host.workers[0].log_path.read_text(), 10, "job.finished"
    )
    records = read_json_log(json_host)
    assert all({"ts", "level", "logger", "message"} <= set(r) for r in records)
    mine = [r for r in records if r.get("job") == result.job_id]
    events = [r["event"] for r in mine]
    assert events[0] == "job.started"
    assert events[-1] == "job.finished"
    assert all(r["host"] == json_host.name for r in mine)
    finished = mine[-1]
    assert finished["status"] == "failed" and finished["exit_code"] == 3
    assert finished["level"] == "INFO" and result.job_id in finished["message"]
    # And the job's two containers were logged as created, then removed, each with its id
    created = [r for r in mine if r["event"] == "container.created"]
    removed = [r for r in mine if r["event"] == "container.removed"]
    assert len(created) == 2
    assert {r["container"] for r in removed} == {r["container"] for r in created}
    assert events.index("container.created") < events.index("container.removed")
    # And the host came up once, at the start
    ups = [r for r in records if r.get("event") == "host.up"]
    assert len(ups) == 1 and ups[0]["host"] == json_host.name
