"""Image poisoning refused on the worker: builds need their switch, and builds and tags
produce only allowed, unpinned names from allowed bases (messages that skip the producer)."""

from __future__ import annotations

import docker
import pytest

from dockfleet import BuildOptions, Fleet, PolicyViolation
from dockfleet.client.uploads import upload
from dockfleet.models import BuildContext
from dockfleet.queues import TaskNames, host_queue
from tests.conftest import TEST_IMAGE, Host, local_host
from tests.support.planting import tar_of

pytestmark = pytest.mark.engine
ALLOWED = '["dft-allowed/*", "busybox:local"]'


#: a host with an image allow-list and a pin; builds allowed
strict_host = local_host(
    "ti",
    DOCKFLEET_POLICY__ALLOWED_IMAGES=ALLOWED,
    DOCKFLEET_CLEANUP__IMAGE_PINS='["dft-allowed/base:*"]',
)
no_build_host = local_host("tn", DOCKFLEET_POLICY__ALLOW_BUILDS="false")


def build_message(fleet: Fleet, host: Host, dockerfile: str, tags: list[str]) -> None:
    """A build sent straight to the host's queue, as a client that skips its checks would."""
    upload_id = upload(fleet.transport, tar_of({"Dockerfile": dockerfile}))
    source = BuildContext(kind="upload", location=upload_id)
    options = BuildOptions(tags=tags)
    fleet.transport.call(
        TaskNames.IMAGE_BUILD,
        [source.model_dump(mode="json"), options.model_dump(mode="json"), None],
        host_queue(host.name),
        timeout=60,
    )


def images_named(engine: docker.DockerClient, prefix: str) -> list[str]:
    return [t for i in engine.images.list() for t in i.tags if t.startswith(prefix)]


def test_a_worker_refuses_builds_of_names_bases_and_pins_the_policy_does_not_allow(
    fleet: Fleet, strict_host: Host, local_engine: docker.DockerClient
) -> None:
    cases = [
        (f"FROM {TEST_IMAGE}\n", ["dft-other/app:1"], "allowed-images"),
        ("FROM dft-elsewhere/base:1\n", ["dft-allowed/app:1"], "allowed-images"),
        (f"ARG B={TEST_IMAGE}\nFROM $B\n", ["dft-allowed/base:2"], "image-pin"),
        (f"FROM {TEST_IMAGE}\nCOPY --from=dft-x/tools:1 /a /a\n", ["dft-allowed/a:1"], "allowed"),
    ]
    for dockerfile, tags, rule in cases:
        with pytest.raises(PolicyViolation, match=rule):
            build_message(fleet, strict_host, dockerfile, tags)
    assert images_named(local_engine, "dft-") == []


def test_a_worker_refuses_a_tag_over_a_pin_or_outside_the_allow_list(
    fleet: Fleet, strict_host: Host
) -> None:
    for target, rule in (("dft-allowed/base:1", "image-pin"), ("dft-other/x:1", "allowed")):
        with pytest.raises(PolicyViolation, match=rule):
            fleet.transport.call(
                TaskNames.IMAGE_TAG, [TEST_IMAGE, target], host_queue(strict_host.name), timeout=30
            )


def test_builds_need_their_switch_on_an_engine_that_does_not_remap_users(
    fleet: Fleet, no_build_host: Host, local_engine: docker.DockerClient
) -> None:
    with pytest.raises(PolicyViolation, match="ALLOW_BUILDS"):
        build_message(fleet, no_build_host, f"FROM {TEST_IMAGE}\n", ["dft-nobuild/app:1"])
    assert images_named(local_engine, "dft-nobuild/") == []
