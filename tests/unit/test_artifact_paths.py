"""Artifact paths checked at submit, globs picked with the one matcher, tars unpacked checked."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from dockfleet.artifact_tar import picked, unpack
from dockfleet.dockerignore import Matcher
from dockfleet.errors import PolicyViolation
from dockfleet.models.artifacts import is_kept, literal_prefix, relative_path
from dockfleet.tar_stream import END, MemberRules
from worker.jobs.artifacts import _prefixes, _renamer


def tar_of(*members: tuple[str, bytes | str]) -> bytes:
    """A tar of files (bytes) and symlinks (str: the link's target)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, content in members:
            info = tarfile.TarInfo(name)
            if isinstance(content, str):
                info.type, info.linkname = tarfile.SYMTYPE, content
                archive.addfile(info)
            else:
                info.size, info.mode = len(content), 0o750
                archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("path", "working_dir", "expected"),
    [
        ("out/", None, "out"),
        ("./a/../b", None, "b"),
        ("**/*.xml", None, "**/*.xml"),
        (".", None, "**"),
        ("/workspace/out", "/workspace", "out"),
    ],
)
def test_an_artifact_path_is_made_relative_to_the_working_directory(
    path: str, working_dir: str | None, expected: str
) -> None:
    assert relative_path(path, working_dir) == expected


@pytest.mark.parametrize(
    ("path", "working_dir"),
    [("../../etc", None), ("a/../../b", "/w"), ("/etc", "/workspace"), ("/w/x", None), ("", None)],
)
def test_an_artifact_path_out_of_the_working_directory_is_refused(
    path: str, working_dir: str | None
) -> None:
    with pytest.raises(ValueError):
        relative_path(path, working_dir)


def test_the_engine_is_asked_for_each_literal_folder_once() -> None:
    assert literal_prefix("out/**/*.xml") == "out"
    assert literal_prefix("*.log") == ""
    assert _prefixes(["out/a", "out/**/*.xml", "logs", "!out/tmp"]) == ["logs", "out"]
    assert _prefixes(["out", "**/*.log"]) == [""]


def test_artifacts_are_kept_by_status_as_gitlab_does() -> None:
    assert is_kept("on_success", "succeeded") and not is_kept("on_success", "failed")
    assert is_kept("on_failure", "timed_out") and not is_kept("on_failure", "succeeded")
    assert is_kept("always", "canceled")


def test_globs_pick_members_renamed_below_the_working_directory() -> None:
    # Given the engine's tar of /w/out (members named out/...) and a glob with an exception
    engine_tar = tar_of(("out/a.xml", b"a"), ("out/sub/b.xml", b"b"), ("out/c.txt", b"c"))
    selector = Matcher(["out/**/*.xml", "!out/sub"])
    seen: list[str] = []

    # When its members are picked
    data = b"".join(
        picked(
            [engine_tar],
            _renamer("out", "out", selector),
            MemberRules(),
            lambda n, _: seen.append(n),
        )
    )

    # Then only what the globs select is written, under its name
    assert seen == ["out/a.xml"]
    with tarfile.open(fileobj=io.BytesIO(data + END)) as archive:
        assert archive.getnames() == ["out/a.xml"]


def test_unpack_keeps_links_as_links_and_refuses_a_member_through_one(tmp_path: Path) -> None:
    # Given a tar with a link out of the tree, then a file that would be written through it
    unpack([tar_of(("out/f", b"x"), ("out/to-etc", "/etc"))], tmp_path / "a")
    assert (tmp_path / "a/out/to-etc").readlink() == Path("/etc")
    assert (tmp_path / "a/out/f").stat().st_mode & 0o777 == 0o750
    with pytest.raises(PolicyViolation):
        unpack([tar_of(("to-etc", "/etc"), ("to-etc/passwd", b"root"))], tmp_path / "b")


def tar_with(*infos: tuple[tarfile.TarInfo, bytes]) -> bytes:
    """A tar of the members as given (their data after each)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for info, data in infos:
            info.size = len(data) if info.isreg() else 0
            archive.addfile(info, io.BytesIO(data) if data else None)
    return buffer.getvalue()


def member(
    name: str, kind: bytes = tarfile.REGTYPE, mode: int = 0o644, **extra: object
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = kind, mode, 1_700_000_000
    for key, value in extra.items():
        setattr(info, key, value)
    return info


def test_unpack_never_writes_through_a_link_that_is_already_in_the_folder(tmp_path: Path) -> None:
    # Given a folder that already holds a link to a folder outside and one to a file outside
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_bytes(b"untouched")
    target = tmp_path / "target"
    target.mkdir()
    (target / "dir-link").symlink_to(outside)
    (target / "file-link").symlink_to(outside / "keep")
    # When a tar writes below the folder link, it is refused and nothing lands outside
    with pytest.raises(PolicyViolation, match="dir-link: a link or a file"):
        unpack([tar_of(("dir-link/new", b"x"))], target)
    assert sorted(p.name for p in outside.iterdir()) == ["keep"]
    # And a file of the file link's name replaces the link, not the file it points to
    unpack([tar_of(("file-link", b"mine"))], target)
    assert (target / "file-link").read_bytes() == b"mine"
    assert not (target / "file-link").is_symlink()
    assert (outside / "keep").read_bytes() == b"untouched"


def test_unpack_drops_special_and_group_write_bits_keeps_times_and_fills_read_only_folders(
    tmp_path: Path,
) -> None:
    # Given a read-only folder of the tar with a setuid, group-writable file and a hard link
    tar = tar_with(
        (member("ro", tarfile.DIRTYPE, 0o555), b""),
        (member("ro/tool", mode=0o4775), b"#!/bin/sh\n"),
        (member("ro/same", tarfile.LNKTYPE, linkname="ro/tool"), b""),
    )
    # When it is unpacked
    assert unpack([tar], tmp_path / "t") == 3
    # Then the file is filled in and keeps only its permission bits, minus group write
    tool = tmp_path / "t/ro/tool"
    assert tool.read_bytes() == b"#!/bin/sh\n"
    assert tool.stat().st_mode & 0o7777 == 0o755
    assert tool.stat().st_mtime == 1_700_000_000
    assert (tmp_path / "t/ro/same").stat().st_ino == tool.stat().st_ino
    assert (tmp_path / "t/ro").stat().st_mode & 0o7777 == 0o555
    assert (tmp_path / "t/ro").stat().st_mtime == 1_700_000_000


def test_unpack_refuses_a_file_where_a_folder_is(tmp_path: Path) -> None:
    (tmp_path / "t/out").mkdir(parents=True)
    with pytest.raises(PolicyViolation, match="out: a folder of that name is in the way"):
        unpack([tar_of(("out", b"x"))], tmp_path / "t")
