"""A workspace's tar: planned and streamed on the client, checked and moved on the worker."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockfleet.client import folder_tar
from dockfleet.client.folder_tar import Cap
from dockfleet.errors import InvalidSpec, PolicyViolation
from dockfleet.tar_stream import Owner, relocated

CAP = Cap(10**8, "workspace", "DOCKFLEET_WORKSPACE_MAX_BYTES")


def tree(root: Path) -> Path:
    """A folder with modes, a symlink out of it, a hard link, an ignored file and folder."""
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "mod.py").write_text("x = 1\n")
    (root / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "run.sh").chmod(0o750)
    (root / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 7))
    os.link(root / "big.bin", root / "big.hard")
    (root / "etc-link").symlink_to("/etc")
    (root / "secret.key").write_text("no")
    (root / "src" / "secret.key").write_text("kept: *.key is top-level only")
    (root / "node_modules" / "x").mkdir(parents=True)
    (root / "node_modules" / "x" / "i.js").write_text("")
    (root / ".dockerignore").write_text("*.key\nnode_modules\n")
    return root


def read_tar(chunks: Iterator[bytes]) -> dict[str, tarfile.TarInfo]:
    archive = tarfile.open(fileobj=io.BytesIO(b"".join(chunks)))
    return {m.name: m for m in archive.getmembers()}


def test_the_planned_tar_is_exact_keeps_modes_and_links_and_honours_dockerignore(
    tmp_path: Path,
) -> None:
    # Given a folder
    root = tree(tmp_path / "ws")

    # When it is planned and streamed in small chunks
    plan = folder_tar.plan(root, CAP)
    chunks = list(folder_tar.chunks(plan, 64 * 1024))

    # Then the chunks are the planned size, none larger than asked
    assert sum(map(len, chunks)) == plan.size
    assert max(map(len, chunks)) <= 64 * 1024 + 2 * 512
    members = read_tar(iter(chunks))
    # And the .dockerignore is honoured as docker reads it
    assert "secret.key" not in members and "node_modules" not in members
    assert "src/secret.key" in members
    # And modes, the symlink (not followed) and the hard link are kept; owners are not
    assert members["run.sh"].mode == 0o750
    assert members["etc-link"].issym() and members["etc-link"].linkname == "/etc"
    assert not any(name.startswith("etc-link/") for name in members)
    assert members["big.hard"].islnk() and members["big.hard"].linkname == "big.bin"
    assert {(m.uid, m.gid, m.uname) for m in members.values()} == {(0, 0, "")}
    # .dockerignore, big.bin, run.sh, mod.py, src/secret.key (the hard link is no file)
    assert plan.files == 5


def test_a_folder_over_the_cap_is_refused_while_it_is_walked(tmp_path: Path) -> None:
    root = tree(tmp_path / "ws")
    with pytest.raises(InvalidSpec, match="raise DOCKFLEET_WORKSPACE_MAX_BYTES"):
        folder_tar.plan(root, Cap(1024 * 1024, "workspace", "DOCKFLEET_WORKSPACE_MAX_BYTES"))


def test_a_file_that_changes_after_the_plan_stops_the_stream(tmp_path: Path) -> None:
    root = tree(tmp_path / "ws")
    plan = folder_tar.plan(root, CAP)
    (root / "run.sh").write_text("longer than it was when planned\n" * 10)
    with pytest.raises(InvalidSpec, match="changed while it was sent"):
        list(folder_tar.chunks(plan, 1024 * 1024))


def test_the_worker_moves_every_member_below_the_target_and_gives_it_to_the_user(
    tmp_path: Path,
) -> None:
    # Given the client's tar of a folder
    plan = folder_tar.plan(tree(tmp_path / "ws"), CAP)

    # When the worker relocates it to /work/space for uid 1000, gid 100
    out = relocated(
        folder_tar.chunks(plan, 100_000), "/work/space", Owner(1000, 100), 10**8, what="ws"
    )
    members = read_tar(out)

    # Then it unpacks at / into /work/space only, owned by the job's user
    assert next(iter(members)) == "work/space" and members["work/space"].isdir()
    assert all(name.startswith("work/space") for name in members)
    assert {(m.uid, m.gid) for m in members.values()} == {(1000, 100)}
    assert members["work/space/etc-link"].linkname == "/etc"
    assert members["work/space/big.hard"].linkname == "work/space/big.bin"
    assert members["work/space/run.sh"].mode == 0o750
    assert members["work/space/big.bin"].size == 3 * 1024 * 1024 + 7


def crafted(*members: tuple[tarfile.TarInfo, bytes]) -> list[bytes]:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for info, data in members:
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return [buffer.getvalue()]


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


@pytest.mark.parametrize(
    ("members", "why"),
    [
        ([(member("/etc/passwd"), b"x")], "an absolute path"),
        ([(member("a/../../etc/passwd"), b"x")], "a '..'"),
        ([(member("l", tarfile.SYMTYPE, "/etc"), b""), (member("l/passwd"), b"x")], "below a"),
        ([(member("h", tarfile.LNKTYPE, "/etc/passwd"), b"")], "an absolute path"),
        ([(member("h", tarfile.LNKTYPE, "nothing"), b"")], "not a file before it"),
        ([(member("dev", tarfile.CHRTYPE), b"")], "not a file, folder or link"),
        ([(member("fifo", tarfile.FIFOTYPE), b"")], "not a file, folder or link"),
    ],
)
def test_a_member_that_could_land_outside_the_target_is_refused(
    members: list[tuple[tarfile.TarInfo, bytes]], why: str
) -> None:
    with pytest.raises(PolicyViolation, match=why):
        list(relocated(crafted(*members), "/workspace", Owner(1, 1), 10**6, what="ws"))


def test_missing_folders_are_made_and_the_worker_enforces_its_own_cap() -> None:
    out = read_tar(
        relocated(crafted((member("a/b/c.txt"), b"hi")), "/w", Owner(5, 5), 10**6, what="ws")
    )
    assert list(out) == ["w", "w/a", "w/a/b", "w/a/b/c.txt"]
    big = crafted((member("big"), b"\0" * 100_000))
    with pytest.raises(PolicyViolation, match="ws is over 50000 bytes"):
        list(relocated(big, "/w", Owner(5, 5), 50_000, what="ws"))
