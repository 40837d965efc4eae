"""Who a job runs as: the image's own non-root USER, root only where it is not the host's,
else the policy's non-root user with a writable HOME; judged on the uid the engine resolves."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from dockfleet import Fleet, JobSpec, PolicyViolation
from dockfleet.policy_model import SecurityPolicy
from tests.conftest import LOCAL_DOCKER, TEST_IMAGE, Host, _engine, running_host
from tests.support.planting import build_image
from tests.support.services import DockerDaemon, run_script

pytestmark = pytest.mark.engine
REPOSITORY = "dockfleet-test-user"


def job(image: str, cmd: str, host: str, **container: object) -> JobSpec:
    spec = {"image": image, "cmd": ["sh", "-c", cmd], **container}
    return JobSpec.model_validate({"container": spec, "host": host, "timeout": 60})


def output(fleet: Fleet, spec: JobSpec) -> tuple[str, list[str]]:
    """(status, stdout lines) of a job run to its end."""
    handle = fleet.run_job(spec)
    lines = [line.line for line in handle.logs(follow=True)]
    result = handle.wait(60)
    return result.status, lines


@pytest.fixture(scope="module")
def user_images(local_engine: docker.DockerClient) -> Iterator[dict[str, str]]:
    """busybox:local with USER 1234; and with a user 'toor' whose uid is 0, as its USER."""
    tags = {
        "uid-1234": build_image(local_engine, f"FROM {TEST_IMAGE}\nUSER 1234\n", REPOSITORY),
        "toor": build_image(
            local_engine,
            f"FROM {TEST_IMAGE}\n"
            "RUN echo 'toor:x:0:0:root in disguise:/root:/bin/sh' >> /etc/passwd\nUSER toor\n",
            REPOSITORY,
        ),
    }
    yield tags
    for tag in tags.values():
        local_engine.images.remove(tag, force=True)


def test_an_image_with_a_non_root_user_runs_as_that_user(
    fleet: Fleet, host_a: Host, user_images: dict[str, str]
) -> None:
    status, lines = output(fleet, job(user_images["uid-1234"], "id -u", host_a.name))
    assert (status, lines) == ("succeeded", ["1234"])


def test_a_root_image_runs_as_the_policy_user_with_a_writable_home(
    fleet: Fleet, host_a: Host
) -> None:
    # Given busybox:local, which runs as root, on an engine that does not remap users
    # When a job writes to $HOME, as pip --user and npm do
    cmd = 'id -u; echo kept > "$HOME/x" && cat "$HOME/x"; echo "$HOME"'
    status, lines = output(fleet, job(TEST_IMAGE, cmd, host_a.name))
    # Then it ran as nobody, and its home was there to write to
    assert (status, lines) == ("succeeded", ["65534", "kept", "/home/dockfleet"])


def test_a_job_that_sets_home_gets_no_home_of_the_fleets(fleet: Fleet, host_a: Host) -> None:
    spec = job(TEST_IMAGE, 'echo "$HOME"; ls /home', host_a.name, env=["HOME=/tmp"])
    assert output(fleet, spec) == ("succeeded", ["/tmp"])


def test_a_user_name_that_resolves_to_uid_0_is_root_whatever_its_name(
    fleet: Fleet, host_a: Host, user_images: dict[str, str]
) -> None:
    # Given an image whose USER is a name that its /etc/passwd maps to uid 0
    # Then the job does not run as root but as the policy's user
    status, lines = output(fleet, job(user_images["toor"], "id -u", host_a.name))
    assert (status, lines) == ("succeeded", ["65534"])
    # And asking for that user is refused by the worker, which resolves the name
    handle = fleet.run_job(job(user_images["toor"], "id -u", host_a.name, user="toor"))
    result = handle.wait(60)
    assert result.status == "error"
    assert "root-user" in (result.error or "") and "uid 0" in (result.error or "")
    # And uid 0 spelled as a number is refused already by the producer
    for user in ("00", "+0", "-0", ":1000"):
        with pytest.raises(PolicyViolation, match="root-user"):
            fleet.run_job(job(user_images["toor"], "id -u", host_a.name, user=user))


def test_a_user_the_image_does_not_know_is_refused_before_anything_runs(
    fleet: Fleet, host_a: Host
) -> None:
    result = fleet.run_job(job(TEST_IMAGE, "id -u", host_a.name, user="nosuchuser")).wait(60)
    assert result.status == "error"
    assert "unknown-user" in (result.error or "")


@pytest.fixture(scope="module")
def remapped_host(
    redis_url: str, local_engine: docker.DockerClient, policy: SecurityPolicy
) -> Iterator[tuple[Host, DockerDaemon, str]]:
    """A dockerd started with --userns-remap=default, holding the Debian-based test image."""
    base = run_script("base-image.sh")
    daemon = DockerDaemon(
        secrets.token_hex(2),
        subnet_octet=secrets.randbelow(200) + 20,
        extra_args=("--userns-remap=default",),
    ).start()
    try:
        daemon.load_image(base, LOCAL_DOCKER)
        engine = _engine(daemon.url)
        assert "name=userns" in engine.info()["SecurityOptions"]
        with running_host("tu", redis_url, policy, engine, docker_url=daemon.url) as host:
            yield host, daemon, base
        engine.close()
    finally:
        daemon.stop()


def test_a_root_image_keeps_root_where_the_engine_remaps_users(
    fleet: Fleet, remapped_host: tuple[Host, DockerDaemon, str]
) -> None:
    host, _, base = remapped_host
    # Given the Debian-based image (it runs as root) on an engine with userns-remap
    handle = fleet.run_job(job(base, "id -u; sleep 3", host.name))
    # When it runs, the container's process is root inside...
    pid = _running_pid(host.engine, handle.id)
    host_uid = int(Path(f"/proc/{pid}/status").read_text().split("Uid:")[1].split()[0])
    lines = [line.line for line in handle.logs(follow=True)]
    assert handle.wait(60).status == "succeeded"
    assert lines == ["0"]
    # ...and an unprivileged uid on the host
    assert host_uid != 0


def _running_pid(engine: docker.DockerClient, job_id: str) -> int:
    deadline = time.monotonic() + 60
    selector = {"label": [f"dockfleet.job={job_id}"], "status": "running"}
    while time.monotonic() < deadline:
        for container in engine.containers.list(filters=selector):
            pid = int(container.attrs["State"]["Pid"])
            if pid:
                return pid
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never ran")
