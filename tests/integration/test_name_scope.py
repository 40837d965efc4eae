"""Class 4 at the worker: the fleet's labels, names, request ids and job ids are its own.

Forged ones sent straight to a worker's queue are refused with no create on the
engine; what a user cannot spell in a message either (an image's own
``dockfleet.*`` labels, another request's id, a job id ending in another job's
service alias) is shown harmless on the real engine.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from typing import Any

import docker
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockfleet import ContainerConfig, Fleet, InvalidSpec, JobSpec, PolicyViolation, ServiceSpec
from tests.conftest import TEST_IMAGE, TEST_LABEL, Host
from tests.support.refusals import refused_untouched
from tests.unit.test_scope_properties import ALIASES, JOB_IDS, RESERVED_KEYS, RESERVED_NAMES

CREATE = "dockfleet.containers.create"
RUN = "dockfleet.jobs.run"
FORGED_LABELS = {
    "dockfleet.deadline": "2000-01-01T00:00:00+00:00",
    "dockfleet.job": "victim",
    "dockfleet.request": "victim/job",
    "dockfleet.managed": "false",
}

FORGED_CREATES = st.one_of(
    st.builds(lambda key: {"labels": {key: "2000-01-01T00:00:00+00:00"}}, RESERVED_KEYS),
    st.builds(lambda name: {"name": name}, RESERVED_NAMES),
    st.builds(lambda job, alias: {"request_id": f"{job}/{alias}"}, JOB_IDS, ALIASES),
    st.builds(lambda name: {"network": name.lstrip("/")}, RESERVED_NAMES),
)
FORGED_JOBS = st.one_of(
    st.builds(lambda key: ({"labels": {key: "2000-01-01T00:00:00+00:00"}}, None), RESERVED_KEYS),
    st.builds(lambda job: ({}, job + "-"), JOB_IDS),
    st.builds(lambda job, alias: ({}, f"{job}--svc-{alias}"), JOB_IDS, ALIASES),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(forged=FORGED_CREATES)
def test_a_create_forging_the_fleets_namespace_is_refused_at_the_worker(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient, forged: dict[str, Any]
) -> None:
    config = {"image": TEST_IMAGE, "cmd": ["true"], **forged}
    refused_untouched(fleet, local_engine, host_a, CREATE, [config], (InvalidSpec, PolicyViolation))


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(forged=FORGED_JOBS)
def test_a_job_forging_the_fleets_namespace_is_refused_at_the_worker(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient, forged: tuple[Any, str | None]
) -> None:
    fields, job_id = forged
    job_id = job_id or f"forged-{secrets.token_hex(4)}"
    spec = {"container": {"image": TEST_IMAGE, "cmd": ["true"]}, "host": host_a.name, **fields}
    refused_untouched(fleet, local_engine, host_a, RUN, [spec, job_id], InvalidSpec)


def test_a_create_cannot_claim_a_job(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    # The task takes no job: only the runner makes (and labels) a job's containers
    config = {"image": TEST_IMAGE, "cmd": ["true"]}
    refused_untouched(fleet, local_engine, host_a, CREATE, [config, "victim"], TypeError)


def test_a_reused_request_id_adopts_only_the_same_request(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    # Given a container made under a request id
    request_id = f"req-{secrets.token_hex(4)}"
    planted = fleet.create_container(
        ContainerConfig(image=TEST_IMAGE, cmd=["echo", "planted"], request_id=request_id),
        host_a.name,
    )
    # When another request with other contents reuses the id, it gets its own container
    mine = ContainerConfig(image=TEST_IMAGE, cmd=["echo", "mine"], request_id=request_id)
    made = fleet.create_container(mine, host_a.name)
    assert made.id != planted.id
    assert local_engine.containers.get(made.id).attrs["Config"]["Cmd"] == ["echo", "mine"]
    # While the same request delivered again still adopts what it made
    assert fleet.create_container(mine, host_a.name).id == made.id


@pytest.fixture
def forged_image(local_engine: docker.DockerClient) -> Iterator[str]:
    """An image whose own LABELs forge the fleet's (anyone can build or publish one)."""
    tag = f"dockfleet-test-forged:{secrets.token_hex(4)}"
    labels = " ".join(f'{k}="{v}"' for k, v in FORGED_LABELS.items())
    dockerfile = f"FROM {TEST_IMAGE}\nLABEL {labels}\n"
    local_engine.images.build(
        fileobj=io.BytesIO(dockerfile.encode()), tag=tag, labels={TEST_LABEL: "1"}, rm=True
    )
    yield tag
    local_engine.images.remove(tag, force=True)


def test_an_images_labels_do_not_pass_the_fleets_own_on(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient, forged_image: str
) -> None:
    # When a container and a job are made from an image that carries forged fleet labels
    info = fleet.create_container(ContainerConfig(image=forged_image, cmd=["true"]), host_a.name)
    handle = fleet.run_job(
        JobSpec(container=ContainerConfig(image=forged_image, cmd=["true"]), host=host_a.name)
    )
    # Then the container's fleet labels are the fleet's: no deadline, no job, its own request
    labels = local_engine.containers.get(info.id).labels
    assert labels["dockfleet.deadline"] == labels["dockfleet.job"] == ""
    assert labels["dockfleet.managed"] == "true"
    assert labels["dockfleet.request"] not in ("", FORGED_LABELS["dockfleet.request"])
    reports = fleet.reconcile(host_a.name, dry_run=True)
    assert all(r.id != info.id for report in reports for r in report.removed)
    # And the job ran as its own, to its end
    assert handle.wait(60).status == "succeeded"


def test_a_job_id_ending_in_a_service_alias_runs_beside_that_jobs_service(
    fleet: Fleet, host_a: Host
) -> None:
    # Given job X with a service "db", running, and job "X-db" (one name in the old scheme)
    base = f"col{secrets.token_hex(3)}"
    service = ServiceSpec(
        alias="db", container=ContainerConfig(image=TEST_IMAGE, cmd=["sleep", "30"])
    )
    first = fleet.run_job(JobSpec(
        job_id=base, host=host_a.name, services=[service],
        container=ContainerConfig(image=TEST_IMAGE, cmd=["sh", "-c", "sleep 3; nslookup db"]),
    ))  # fmt: skip
    second = fleet.run_job(JobSpec(
        job_id=f"{base}-db", host=host_a.name,
        container=ContainerConfig(image=TEST_IMAGE, cmd=["true"]),
    ))  # fmt: skip
    # Then both run to success, each with its own containers
    assert second.wait(60).status == "succeeded"
    assert first.wait(60).status == "succeeded"
