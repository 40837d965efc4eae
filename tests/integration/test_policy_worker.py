"""The worker against every spelling of issue 14's classes 1, 2, 5 and 9, sent past the
producer: refused before any Docker call (the engine records no event for the host), or,
for a symlink that only the engine's host can see, before the container is made."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockfleet import ContainerConfig, Fleet, PolicyViolation, Settings
from dockfleet.policy import check_container
from dockfleet.queues import host_queue
from dockfleet.validation import parse
from tests.conftest import LOCAL_DOCKER, TEST_IMAGE, TEST_LABEL, Host, random_name
from tests.support.events import EventRecorder
from tests.support.planting import build_image
from tests.support.policy_spellings import (
    LIMIT_BYPASSES,
    REFUSED_SECURITY_OPTS,
    ROOT_USERS,
    engine_path_spellings,
    spec,
)
from tests.support.services import DockerDaemon, require
from worker.engine import images as engine_images
from worker.ops import container_ops, users
from worker.runtime import Runtime

pytestmark = pytest.mark.engine
MIB = 1024**2
BYPASSES = st.one_of(
    ROOT_USERS.map(lambda user: spec(user=user)),
    REFUSED_SECURITY_OPTS.map(lambda option: spec(security_opt=[option])),
    LIMIT_BYPASSES.map(lambda fields: spec(**fields)),
    engine_path_spellings().map(lambda path: spec(volumes={path: "/mnt"})),
)
#: what the in-process worker's policy adds (its maxima, as the CLI spells sizes)
MAXIMA = {"max_memory": "256m", "max_cpus": 1, "allowed_host_paths": ["/"]}
OVER_MAXIMA = st.one_of(
    st.integers(256 * MIB + 1, 2**40).map(lambda size: spec(memory_limit=size)),
    st.floats(1.0001, 2.0).map(lambda cpus: spec(cpu_limit=cpus)),
)


@contextmanager
def worker_runtime(
    redis_url: str, docker_url: str = LOCAL_DOCKER, **policy: Any
) -> Iterator[Runtime]:
    """A worker's runtime in this process, under its own host name; its containers removed after."""
    host = random_name("tp")
    rt = Runtime(
        Settings(redis_url=redis_url, docker_host=docker_url, host_name=host, policy=policy)
    )
    try:
        yield rt
    finally:
        for container in rt.docker.containers.list(
            all=True, filters={"label": f"dockfleet.host={host}"}
        ):
            container.remove(force=True)
        rt.docker.close()


@contextmanager
def no_events_for(engine: docker.DockerClient, host: str) -> Iterator[EventRecorder]:
    """Records the engine's container events for `host`; asserts after that there were none."""
    with EventRecorder(engine, {"label": f"dockfleet.host={host}"}) as recorder:
        yield recorder
        time.sleep(0.5)  # events arrive a little after the calls that cause them
    assert recorder.events == []


def test_bypass_spellings_sent_straight_to_a_worker_are_refused_before_any_docker_call(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=BYPASSES)
    def refused(data: dict[str, Any]) -> None:
        parse(ContainerConfig, data)  # the models take it: the policy alone refuses it
        with pytest.raises(PolicyViolation):
            fleet.transport.call(
                "dockfleet.containers.create", [data], host_queue(host_a.name), timeout=20
            )

    with no_events_for(local_engine, host_a.name):
        refused()


def test_the_worker_refuses_bypasses_and_limits_over_its_maxima_before_any_docker_call(
    redis_url: str, local_engine: docker.DockerClient
) -> None:
    with worker_runtime(redis_url, **MAXIMA) as rt, no_events_for(local_engine, rt.host):

        @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
        @given(data=st.one_of(BYPASSES, OVER_MAXIMA))
        def refused(data: dict[str, Any]) -> None:
            with pytest.raises(PolicyViolation):
                container_ops.create(rt, parse(ContainerConfig, data))

        refused()


@pytest.fixture(scope="module")
def image_user_1234(local_engine: docker.DockerClient) -> Iterator[str]:
    tag = build_image(local_engine, f"FROM {TEST_IMAGE}\nUSER 1234\n", "dockfleet-test-user")
    yield tag
    local_engine.images.remove(tag, force=True)


def test_an_empty_user_part_is_uid_0_whatever_the_images_user(
    redis_url: str, local_engine: docker.DockerClient, image_user_1234: str
) -> None:
    # Given an image whose USER is 1234: the engine still runs ":1000" as uid 0
    out = local_engine.containers.run(
        image_user_1234, ["id", "-u"], user=":1000", remove=True, labels={TEST_LABEL: "true"}
    )
    assert out.strip() == b"0"
    with worker_runtime(redis_url) as rt:
        image = engine_images.inspect_if_present(rt.docker, image_user_1234, rt.host)

        # Then the worker's own resolution, past the policy check, refuses each such spelling
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        @given(group=st.one_of(st.just(""), st.integers(0, 70_000).map(str)))
        def refused(group: str) -> None:
            config = ContainerConfig(image=image_user_1234, user=f":{group}")
            with pytest.raises(PolicyViolation) as caught:
                users.run_as(rt, config, image)
            assert caught.value.rule == "root-user"

        refused()


@pytest.fixture
def links(bind_root: str) -> Iterator[Path]:
    """An allowed folder holding a folder, a symlink out of it and a symlink within it."""
    root = Path(tempfile.mkdtemp(dir=bind_root))
    (root / "real").mkdir()
    (root / "out").symlink_to("/etc")
    (root / "in").symlink_to("real")
    (root / "real" / "up").symlink_to("../..")
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_a_symlink_below_an_allowed_folder_is_refused_as_the_engines_host_sees_it(
    redis_url: str, local_engine: docker.DockerClient, links: Path
) -> None:
    refused = ["out", "out/ssl", "in", "in/x", "real/up", "real/up/out"]
    accepted = ["real", "real/new/deeper", "missing"]
    with (
        worker_runtime(redis_url, allowed_host_paths=[str(links)]) as rt,
        EventRecorder(local_engine, {"label": f"dockfleet.host={rt.host}"}) as recorder,
    ):
        for index, below in enumerate(refused + accepted):
            name = f"{rt.host}-{index}"
            config = ContainerConfig(
                image=TEST_IMAGE, name=name, volumes={f"{links}/{below}": "/m"}
            )
            check_container(config, rt.settings.policy)  # the producer cannot see the links
            if below in refused:
                with pytest.raises(PolicyViolation) as caught:
                    container_ops.create(rt, config)
                assert caught.value.rule == "host-path" and "symlink" in str(caught.value)
            else:
                assert container_ops.create(rt, config).name == name
        time.sleep(0.5)
    # Then only the accepted specs became containers, and nothing was ever started
    made = {e["Actor"]["Attributes"]["name"] for e in recorder.events if e["Action"] == "create"}
    assert {n for n in made if n.startswith(rt.host)} == {
        f"{rt.host}-{len(refused) + i}" for i in range(len(accepted))
    }
    assert not [e for e in recorder.events if e["Action"] == "start"]


def test_a_worker_that_sees_another_file_system_still_judges_by_the_engines(
    redis_url: str, local_engine: docker.DockerClient, links: Path
) -> None:
    require(os.geteuid() == 0 and shutil.which("unshare") is not None, "root and unshare(1)")
    # Given a worker process with its own mount namespace, where the allowed folder is an
    # empty tmpfs (as a worker in a container sees its own files, not the engine's host's)
    script = Path(tempfile.mkdtemp()) / "create.py"
    script.write_text(
        "import os, sys\n"
        "from dockfleet import ContainerConfig, PolicyViolation, Settings\n"
        "from worker.ops import container_ops\nfrom worker.runtime import Runtime\n"
        "root, redis_url, host = sys.argv[1:]\n"
        "print('sees link:', os.path.islink(root + '/out'))\n"
        "policy = {'allowed_host_paths': [root]}\n"
        "rt = Runtime(Settings(redis_url=redis_url, host_name=host, policy=policy))\n"
        f"config = ContainerConfig(image={TEST_IMAGE!r}, volumes={{root + '/out': '/m'}})\n"
        "try:\n    container_ops.create(rt, config)\n    print('created')\n"
        "except PolicyViolation as exc:\n    print('refused:', exc.rule)\n"
    )
    host = random_name("tp")
    command = 'mount -t tmpfs none "$1" && exec "$0" "$2" "$1" "$3" "$4"'
    try:
        result = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", command,
             sys.executable, str(links), str(script), redis_url, host],
            capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2],
            env={**os.environ, "DOCKFLEET_DOCKER_HOST": LOCAL_DOCKER},
        )  # fmt: skip
    finally:
        shutil.rmtree(script.parent)
        for container in local_engine.containers.list(
            all=True, filters={"label": f"dockfleet.host={host}"}
        ):
            container.remove(force=True)
    # Then it cannot see the symlink, and still refuses the path that goes through it
    assert result.stdout.split("\n")[:2] == ["sees link: False", "refused: host-path"], (
        result.stderr
    )


def test_the_engines_own_data_root_is_never_mountable(
    redis_url: str, engine_b: DockerDaemon
) -> None:
    # Given an engine whose data root is not a well-known path, and a policy that allows "/"
    source = f"{engine_b.data_root}/containers"
    config = ContainerConfig(image=TEST_IMAGE, volumes={source: "/m"})
    with worker_runtime(redis_url, engine_b.url, allowed_host_paths=["/"]) as rt:
        check_container(config, rt.settings.policy)  # the producer cannot know that root
        # Then the worker, which asks its engine, refuses it and any folder above it
        for path in (source, engine_b.data_root, str(Path(engine_b.data_root).parent)):
            with pytest.raises(PolicyViolation) as caught:
                container_ops.create(rt, config.model_copy(update={"volumes": {path: "/m"}}))
            assert caught.value.rule == "engine-path", path


def test_a_named_volume_is_judged_by_what_its_driver_mounts(
    redis_url: str, local_engine: docker.DockerClient, tmp_path: Path
) -> None:
    # Given volumes made by hand on the host: binds of /etc and of an allowed folder, an NFS
    # mount, a tmpfs and a plain one (and a name with no volume yet)
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    tag = random_name("tv")
    made = {
        "etc": {"type": "none", "o": "bind", "device": "/etc"},
        "ok-bind": {"type": "none", "o": "rbind", "device": str(allowed)},
        "nfs": {"type": "nfs", "o": "addr=127.0.0.1,ro", "device": ":/export"},
        "tmpfs": {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"},
        "plain": {},
    }
    for name, options in made.items():
        local_engine.volumes.create(
            f"{tag}-{name}", driver_opts=options, labels={TEST_LABEL: "true"}
        )
    expected = {
        "etc": "host-path",
        "ok-bind": None,
        "nfs": "named-volume",
        "tmpfs": None,
        "plain": None,
        "new": None,
    }
    try:
        with worker_runtime(redis_url, allowed_host_paths=[str(allowed)]) as rt:
            for name, rule in expected.items():
                config = ContainerConfig(image=TEST_IMAGE, volumes={f"{tag}-{name}": "/m"})
                check_container(config, rt.settings.policy)  # a name is all the producer sees
                # Then the worker refuses what would mount a host path it does not allow, or a
                # file system, naming the volume; and makes the rest
                if rule is None:
                    assert container_ops.create(rt, config).id, name
                    continue
                with pytest.raises(PolicyViolation) as caught:
                    container_ops.create(rt, config)
                assert caught.value.rule == rule, name
                assert f"{tag}-{name}" in str(caught.value)
    finally:
        for volume in local_engine.volumes.list(filters={"name": tag}):
            volume.remove(force=True)
