"""Filtered listing: exactly the expected set, and never what the fleet did not make."""

from __future__ import annotations

import docker

from dockfleet import ContainerConfig, ContainerFilter, Fleet
from tests.conftest import TEST_IMAGE, TEST_LABEL, Host

SLEEP = ["sleep", "300"]


def make(fleet: Fleet, host: Host, labels: dict[str, str], start: bool) -> str:
    info = fleet.create_container(
        ContainerConfig(image=TEST_IMAGE, cmd=SLEEP, labels=labels), host=host.name
    )
    if start:
        fleet.start_container(info.id)
    return info.id


def ids(fleet: Fleet, **query: object) -> set[str]:
    return {c.id for c in fleet.list_containers(ContainerFilter.model_validate(query))}


def test_listing_filters_by_status_labels_and_limit(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    # Given three fleet containers (two running) and one the fleet did not create
    a1 = make(fleet, host_a, {"team": "a", "tier": "x"}, start=True)
    a2 = make(fleet, host_a, {"team": "a"}, start=False)
    b1 = make(fleet, host_a, {"team": "b"}, start=True)
    stranger = local_engine.containers.run(
        TEST_IMAGE, SLEEP, detach=True, labels={TEST_LABEL: "1", "team": "a"}
    )
    host = host_a.name

    # Then each filter returns exactly its set
    assert ids(fleet, host=host) == {a1, a2, b1}
    assert ids(fleet, host=host, status=["running"]) == {a1, b1}
    assert ids(fleet, host=host, status=["created"]) == {a2}
    assert ids(fleet, host=host, labels={"team": "a"}) == {a1, a2}
    assert ids(fleet, host=host, labels={"team": "a", "tier": "x"}) == {a1}
    assert ids(fleet, host=host, labels={"tier": None}) == {a1}
    assert ids(fleet, host=host, labels=["team=b"]) == {b1}
    assert ids(fleet, host=host, status=["running"], labels={"team": "a"}) == {a1}

    # And the limit keeps the newest
    newest = fleet.list_containers(ContainerFilter(host=host, limit=1))
    assert [c.id for c in newest] == [b1]

    # And without naming a host, every live host is asked
    assert {a1, a2, b1} <= ids(fleet)

    # And the unlabelled container shows only when asked for
    assert stranger.id not in ids(fleet, labels={"team": "a"})
    unmanaged = fleet.list_containers(
        ContainerFilter(host=host, labels={"team": "a"}, include_unmanaged=True)
    )
    by_id = {c.id: c for c in unmanaged}
    assert stranger.id in by_id and a1 in by_id
    assert by_id[stranger.id].managed is False and by_id[a1].managed is True


def test_listing_reports_host_ports_and_exit_codes(fleet: Fleet, host_a: Host) -> None:
    info = fleet.create_container(
        ContainerConfig(image=TEST_IMAGE, cmd=["sh", "-c", "exit 3"]), host=host_a.name
    )
    fleet.start_container(info.id)
    fleet.wait_container(info.id, timeout=10)
    [listed] = fleet.list_containers(ContainerFilter(host=host_a.name, status=["exited"]))
    assert (listed.id, listed.host, listed.exit_code, listed.managed) == (
        info.id,
        host_a.name,
        3,
        True,
    )
