"""What the engine does with the specs that the policy accepts: a random sample created
through the worker's create path, then inspected and started; and no-new-privileges,
which nothing in a spec's own security options can lift."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import docker
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockfleet import ContainerConfig, PolicyViolation
from dockfleet.policy import check_container, numeric_uid
from dockfleet.policy_limits import MIN_CPUS, nano_cpus, tmpfs_size
from dockfleet.policy_model import SAFE_CAPABILITIES, SecurityPolicy
from dockfleet.security_opts import normalise
from tests.conftest import TEST_IMAGE, TEST_LABEL
from tests.integration.test_policy_worker import worker_runtime
from tests.support.policy_spellings import NNP_TRUE
from worker.engine import containers as engine
from worker.engine.convert import create_arguments
from worker.ops import container_ops

pytestmark = pytest.mark.engine
MIB = 1024**2
MAXIMA = {"max_memory": "256m", "max_cpus": 1, "max_tmpfs_size": "128m"}

USERS = st.one_of(
    st.none(),
    st.sampled_from(["nobody", "nobody:nogroup", "65534", "+1000", "0001000:0"]),
    st.builds(
        lambda uid, gid: f"{uid}:{gid}" if gid is not None else str(uid),
        st.integers(1, 2**31 - 1),
        st.one_of(st.none(), st.integers(0, 2**31 - 1)),
    ),
)
#: (name, soft, hard) within the default maxima and below the engine's own limits: with
#: CapDrop ALL a container may lower its limits but not raise them (a start fails with
#: "error setting rlimits": measured with nice=1 on an engine whose own hard limit is 0)
ULIMITS = st.one_of(
    st.integers(256, 4096).flatmap(
        lambda hard: st.tuples(st.just("nofile"), st.integers(64, hard), st.just(hard))
    ),
    st.sampled_from([("nice", 0, 0), ("rtprio", 0, 0), ("core", 0, -1), ("stack", 8 * MIB, -1)]),
    st.integers(0, 64 * 1024).map(lambda n: ("memlock", n, n)),
)


def accepted_specs(bind_root: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"image": st.just(TEST_IMAGE), "cmd": st.just(["sleep", "30"])},
        optional={
            "user": USERS,
            "security_opt": st.lists(NNP_TRUE, max_size=2),
            "memory_limit": st.integers(8 * MIB, 256 * MIB),
            "cpu_limit": st.floats(MIN_CPUS, 1.0),
            "shm_size": st.integers(MIB, 64 * MIB),
            "tmpfs": st.dictionaries(
                st.sampled_from(["/tmp", "/run/x", "/cache"]),
                st.sampled_from(["", "rw", "size=1m", "mode=1777,size=16m", "noexec"]),
                max_size=2,
            ),
            "ulimits": st.lists(ULIMITS, max_size=3, unique_by=lambda u: u[0]).map(
                lambda us: [{"name": n, "soft": s, "hard": h} for n, s, h in us]
            ),
            "pids_limit": st.integers(16, 4096),
            "read_only": st.booleans(),
            "init": st.booleans(),
            "cap_add": st.lists(st.sampled_from(SAFE_CAPABILITIES), max_size=3, unique=True),
            "volumes": st.dictionaries(
                st.sampled_from([bind_root, f"{bind_root}/real", f"{bind_root}/new/sub"]),
                st.sampled_from(["/data", "/data2:ro"]),
                max_size=1,
            ),
        },
    )


def test_every_spec_the_policy_accepts_runs_confined_and_limited(
    redis_url: str, local_engine: docker.DockerClient, bind_root: str
) -> None:
    root = tempfile.mkdtemp(dir=bind_root)
    Path(root, "real").mkdir()
    with worker_runtime(redis_url, allowed_host_paths=[root], **MAXIMA) as rt:
        policy = rt.settings.policy

        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
        @given(data=accepted_specs(root))
        def confined(data: dict[str, Any]) -> None:
            config = ContainerConfig.model_validate(data)
            check_container(config, policy)  # the policy accepts it
            info = container_ops.create(rt, config)
            try:
                engine.start(rt.docker, info.id)
                doc = engine.inspect_raw(rt.docker, info.id)
                assert_confined(doc, policy.max_tmpfs_size)
            finally:
                engine.remove(rt.docker, info.id, force=True, volumes=False)

        confined()


def assert_confined(doc: dict[str, Any], max_tmpfs: int) -> None:
    hc = doc["HostConfig"]
    options = [normalise(o) for o in hc["SecurityOpt"]]
    nnp = [o for o in options if o.startswith("no-new-privileges=")]
    assert nnp[-1] == "no-new-privileges=true"  # the engine takes the last one
    assert not any(o.startswith(("seccomp=", "apparmor=", "label=")) for o in options)
    assert hc["Privileged"] is False and hc["CapDrop"] == ["ALL"]
    assert 0 < hc["Memory"] <= 256 * MIB and hc["MemorySwap"] == hc["Memory"]
    assert nano_cpus(MIN_CPUS) <= hc["NanoCpus"] <= nano_cpus(1)
    assert 0 < hc["ShmSize"] <= 64 * MIB
    assert 0 < hc["PidsLimit"] <= 4096
    for mount_options in (hc.get("Tmpfs") or {}).values():
        assert 0 < (tmpfs_size(mount_options) or 0) <= max_tmpfs
    # no namespace of the host's or of another container
    assert hc["NetworkMode"] not in ("host",) and not hc["NetworkMode"].startswith("container:")
    assert hc["PidMode"] == "" and hc["UTSMode"] == "" and hc["UsernsMode"] == ""
    assert hc["IpcMode"] in ("private", "shareable")
    # the uid the engine resolved, as the kernel holds it for the running process
    user = doc["Config"]["User"]
    assert numeric_uid(user.partition(":")[0]) != 0 and user.partition(":")[0] not in ("", "root")
    status = Path(f"/proc/{doc['State']['Pid']}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    assert "0" not in fields["Uid"].split(), fields["Uid"]
    assert fields["NoNewPrivs"].strip() == "1" and fields["Seccomp"].strip() == "2"


def test_no_option_in_a_spec_can_lift_no_new_privileges_on_the_engine(
    local_engine: docker.DockerClient,
) -> None:
    # Given a spec past every check, that turns no-new-privileges off in its own options
    lifts = ["no-new-privileges=false", "no-new-privileges:0", "no-new-privileges=F"]
    config = ContainerConfig(image=TEST_IMAGE, cmd=["sleep", "30"], security_opt=lifts)
    with pytest.raises(PolicyViolation):
        check_container(config, SecurityPolicy())
    arguments = create_arguments(config, SecurityPolicy(), {TEST_LABEL: "true"}, user="65534")
    # When the worker's create arguments reach the engine
    container_id = engine.create(local_engine, arguments)
    try:
        engine.start(local_engine, container_id)
        pid = local_engine.api.inspect_container(container_id)["State"]["Pid"]
        # Then the fleet's own no-new-privileges, put last, is the one the engine applied
        status = Path(f"/proc/{pid}/status").read_text()
        assert "NoNewPrivs:\t1" in status
    finally:
        local_engine.api.remove_container(container_id, force=True)
