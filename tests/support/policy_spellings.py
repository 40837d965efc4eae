"""Hypothesis strategies: the spellings of the policy bypasses of issue 14 (classes 1, 2, 5
and 9), as raw spec dicts, for the producer's tests and the worker's alike.

Each strategy makes only specs that the models accept, so that a refusal is the
policy's; the `reason` strategies say what Docker would have done with them.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

from hypothesis import strategies as st

from dockfleet.policy import DOCKER_SOCKETS, ENGINE_PATHS
from dockfleet.policy_limits import MIN_CPUS, nano_cpus
from dockfleet.security_opts import GO_FALSE, GO_TRUE, UnreadableOption, normalise

IMAGE = "busybox:local"
SIGNS = st.sampled_from(["", "+", "-"])
GROUPS = st.one_of(
    st.integers(0, 70_000).map(str), st.sampled_from(["", "root", "0", "00", "wheel", "nogroup"])
)

# -- class 1: uid 0 ------------------------------------------------------------
#: the user part alone: Go's Atoi reads any sign and any number of zeros as 0
UID0_NAMES = st.one_of(
    st.builds(lambda sign, zeros: sign + "0" * zeros, SIGNS, st.integers(1, 8)), st.just("root")
)
ROOT_USERS = st.one_of(
    UID0_NAMES,
    st.builds(lambda name, group: f"{name}:{group}", UID0_NAMES, GROUPS),
    # an empty user part: the engine starts from uid 0, whatever the image's USER
    GROUPS.map(lambda group: f":{group}"),
)
NON_ROOT_USERS = st.builds(
    lambda sign, zeros, uid, group: f"{sign}{'0' * zeros}{uid}" + (f":{group}" if group else ""),
    st.sampled_from(["", "+"]),
    st.integers(0, 3),
    st.integers(1, 2**31 - 1),
    st.one_of(st.just(""), GROUPS),
)

# -- class 2: security options -------------------------------------------------
SEPARATORS = st.sampled_from(["=", ":"])
NNP_TRUE = st.one_of(
    st.just("no-new-privileges"),
    st.builds(
        lambda sep, v: f"no-new-privileges{sep}{v}", SEPARATORS, st.sampled_from(sorted(GO_TRUE))
    ),
)
NNP_FALSE = st.builds(
    lambda sep, v: f"no-new-privileges{sep}{v}", SEPARATORS, st.sampled_from(sorted(GO_FALSE))
)
SECCOMP_PROFILES = st.one_of(
    st.sampled_from(["unconfined", "builtin", "/etc/docker/seccomp.json", ""]),
    st.builds(
        lambda action, names: json.dumps(
            {"defaultAction": action, "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}]}
        ),
        st.sampled_from(["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_ERRNO"]),
        st.lists(st.sampled_from(["mount", "ptrace", "unshare", "keyctl", "bpf"]), max_size=3),
    ),
)
LABELS = st.one_of(
    st.sampled_from(
        ["disable", "type:spc_t", "type:container_runtime_t", "level:s0", "level:s0:c1,c2",
         "user:system_u", "role:system_r", "nested", "filetype:container_file_t"]
    ),
    st.text(max_size=12),
)  # fmt: skip
PROFILE_NAMES = st.one_of(
    st.sampled_from(["unconfined", "docker-default", "complain-all"]),
    st.from_regex(r"[a-z][a-z0-9_-]{0,15}", fullmatch=True),
)


def keyed(key: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda sep, value: f"{key}{sep}{value}", SEPARATORS, values)


def reads_as_nnp_true(option: str) -> bool:
    try:
        return normalise(option) == "no-new-privileges=true"
    except UnreadableOption:
        return False


REFUSED_SECURITY_OPTS = st.one_of(
    NNP_FALSE,
    keyed("seccomp", SECCOMP_PROFILES),
    keyed("apparmor", PROFILE_NAMES),
    keyed("label", LABELS),
    st.just("disable"),
    keyed("systempaths", st.just("unconfined")),
    keyed("writable-cgroups", st.sampled_from(["true", "1"])),
    # case and blanks the engine does not fold: it refuses them, and so does the policy
    st.sampled_from(["Seccomp=unconfined", "no-new-privileges= true", " no-new-privileges"]),
    st.text(max_size=24).filter(lambda text: not reads_as_nnp_true(text)),
)

# -- class 5: limits (against the default policy) --------------------------------
TINY_CPUS = st.floats(min_value=1e-15, max_value=MIN_CPUS).filter(
    lambda cpus: nano_cpus(cpus) < nano_cpus(MIN_CPUS)
)
#: sizes the kernel reads otherwise than they look: unlimited, % of RAM, hex, octal...
ODD_SIZES = st.one_of(
    st.sampled_from(["0", "0k", "00", "1.5m", "1mb", "1kib", "1p", "1e", " 1m", "-1", "1 m"]),
    st.integers(0, 100).map(lambda n: f"{n}%"),
    st.integers(1, 2**40).map(hex),
    st.integers(1, 10**6).map(lambda n: "0" + format(n, "o")),
)
FLAGS = st.lists(st.sampled_from(["rw", "ro", "exec", "noexec", "nosuid", "mode=1777"]), max_size=3)
ODD_TMPFS = st.one_of(
    st.builds(lambda flags, size: ",".join([*flags, f"size={size}"]), FLAGS, ODD_SIZES),
    # the last size= wins in the engine: an unlimited one after a small one
    st.builds(lambda flags, size: ",".join(["size=1m", *flags, f"size={size}"]), FLAGS, ODD_SIZES),
    st.builds(lambda flags: ",".join(["size=1m", *flags, "nr_blocks=0"]), FLAGS),
)
#: (name, hard) above the default maxima, or ulimits the policy names no maximum for
HIGH_ULIMITS = st.one_of(
    st.tuples(st.just("rtprio"), st.integers(1, 99) | st.just(-1)),
    st.tuples(st.just("nice"), st.integers(21, 40) | st.just(-1)),
    st.tuples(st.just("memlock"), st.integers(64 * 1024**2 + 1, 2**40) | st.just(-1)),
    st.tuples(st.just("nofile"), st.integers(1_048_577, 2**31) | st.just(-1)),
    st.tuples(st.sampled_from(["foo", "as", "priority"]), st.integers(0, 10)),
)
LIMIT_BYPASSES = st.one_of(
    TINY_CPUS.map(lambda cpus: {"cpu_limit": cpus}),
    st.builds(
        lambda path, opts: {"tmpfs": {path: opts}}, st.sampled_from(["/tmp", "/dev/shm"]), ODD_TMPFS
    ),
    st.integers(1025, 2**34).map(lambda mib: {"tmpfs": {"/tmp": f"size={mib}m"}}),
    st.integers(64 * 1024**2 + 1, 2**40).map(lambda size: {"shm_size": size}),
    HIGH_ULIMITS.map(lambda u: {"ulimits": [{"name": u[0], "soft": u[1], "hard": u[1]}]}),
)

# -- class 9: the engine's own paths ---------------------------------------------
RESERVED_ROOTS = st.sampled_from(sorted({*ENGINE_PATHS, *DOCKER_SOCKETS}))


@st.composite
def engine_path_spellings(draw: st.DrawFn, roots: st.SearchStrategy[str] = RESERVED_ROOTS) -> str:
    """A path that is, holds, or lies under one of `roots`, spelled oddly."""
    parts = [p for p in draw(roots).split("/") if p]
    shape = draw(st.sampled_from(["same", "under", "above"]))
    if shape == "under":
        parts += draw(
            st.lists(st.from_regex(r"[a-z0-9._-]{1,8}", fullmatch=True), min_size=1, max_size=3)
        )
        parts = [p for p in parts if p not in (".", "..")] or ["x"]
    elif shape == "above":
        parts = parts[: draw(st.integers(0, len(parts) - 1))]
    spelled: list[str] = []
    for part in parts:
        spelled += draw(st.sampled_from([[], [""], ["."], ["x", ".."]]))  # "//", "/./", "x/.."
        spelled.append(part)
    path = "/" + "/".join(spelled) + draw(st.sampled_from(["", "/", "/."]))
    assert posixpath.normpath("/" + posixpath.normpath(path).lstrip("/")) == "/" + "/".join(parts)
    return path


def spec(**fields: Any) -> dict[str, Any]:
    return {"image": IMAGE, "cmd": ["true"], **fields}
