"""Tars that arrive as a stream of chunks: read member by member, checked, written again.

A tar from the other side of a transfer is never trusted: `MemberRules` refuses
what could put a file outside the folder it is unpacked into (an absolute name, a
``..``, a member below a symlink the tar itself made, a hard link to something
that is not an earlier file of the tar) and what a tree of files has no use for
(devices, FIFOs). `relocated` is the worker's use (a job's workspace, on its way
into the container): each member checked, moved below the target folder, given
to the job's user, and written out again in chunks, so that nothing holds the
whole tar. Unpacking artifacts on the client is the same reading, the other way.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from dockfleet.errors import PolicyViolation

BLOCK = tarfile.BLOCKSIZE
END = b"\0" * (2 * BLOCK)
#: what tarfile reads from the stream at a time
READ_BYTES = 1024 * 1024


class ChunkReader(io.RawIOBase):
    """A readable file over an iterator of byte chunks; counts what it handed out."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = memoryview(b"")
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        self.consumed += count
        return count


class MemberRules:
    """The checks every member of an untrusted tar passes, in the tar's order."""

    def __init__(self) -> None:
        #: name -> "dir", "file" or "link", as the tar has made them so far
        self.kinds: dict[str, str] = {}

    def check(self, member: tarfile.TarInfo) -> str:
        """The member's normalized name (relative, slash-separated).

        Raises:
            PolicyViolation: for the first rule the member breaks.
        """
        name = self._safe_name(member.name, member.name)
        if member.isdir():
            kind = "dir"
        elif member.issym():
            kind = "link"  # its target may be anything: it arrives as a link, never followed
        elif member.islnk():
            target = self._safe_name(member.linkname, member.name)
            if self.kinds.get(target) != "file":
                raise _refused(
                    member.name, f"a hard link to {member.linkname!r}, not a file before it"
                )
            kind = "file"
        elif member.isreg():
            kind = "file"
        else:
            raise _refused(member.name, "not a file, folder or link")
        self.kinds[name] = kind
        return name

    def _safe_name(self, raw: str, member: str) -> str:
        if raw.startswith("/") or "\0" in raw:
            raise _refused(member, "an absolute path")
        parts = [p for p in raw.split("/") if p not in ("", ".")]
        if not parts:
            raise _refused(member, "an empty name")
        if ".." in parts:
            raise _refused(member, "a '..' in its path")
        for depth in range(1, len(parts)):
            if self.kinds.get("/".join(parts[:depth])) == "link":
                raise _refused(member, "below a symlink of the same tar (it would be followed)")
        return "/".join(parts)


@dataclass(frozen=True)
class Owner:
    uid: int
    gid: int


def relocated(
    chunks: Iterable[bytes], target: str, owner: Owner, max_bytes: int, *, what: str
) -> Iterator[bytes]:
    """The tar of `chunks`, checked, below the folder `target` (absolute), owned by `owner`.

    The output unpacks at ``/``: its first member is the target folder itself and
    every folder on the way to a member is there before it (made when the tar has
    none), so that unpacking never passes through a link that was already there.

    Raises:
        PolicyViolation: a member breaks `MemberRules`, or the tar passes `max_bytes`.
    """
    prefix = posixpath.normpath(target).strip("/")
    reader = ChunkReader(chunks)
    rules = MemberRules()
    made: set[str] = set()
    yield _folder(prefix, owner, 0o755)
    with tarfile.open(fileobj=reader, mode="r|", bufsize=READ_BYTES) as archive:
        while (member := archive.next()) is not None:
            archive.members.clear()  # type: ignore[attr-defined]  # a stream is read once: keep no list of 20,000 members
            if reader.consumed > max_bytes:
                raise _too_large(what, max_bytes)
            name = rules.check(member)
            parents = name.split("/")[:-1]
            for depth in range(1, len(parents) + 1):
                parent = "/".join(parents[:depth])
                if parent not in made and rules.kinds.get(parent) != "dir":
                    rules.kinds[parent] = "dir"
                    yield _folder(f"{prefix}/{parent}", owner, 0o755)
                made.add(parent)
            if member.isdir():
                made.add(name)
            yield from _moved(archive, member, f"{prefix}/{name}", prefix, owner)
            if reader.consumed > max_bytes:
                raise _too_large(what, max_bytes)
    yield END


def _moved(
    archive: tarfile.TarFile, member: tarfile.TarInfo, name: str, prefix: str, owner: Owner
) -> Iterator[bytes]:
    out = tarfile.TarInfo(name)
    out.type = tarfile.REGTYPE if member.isreg() else member.type
    out.mode = member.mode & 0o7777
    out.mtime = int(member.mtime)
    out.uid, out.gid = owner.uid, owner.gid
    if member.issym():
        out.linkname = member.linkname
    elif member.islnk():
        out.linkname = f"{prefix}/{posixpath.normpath(member.linkname).lstrip('/')}"
    size = member.size if member.isreg() else 0
    out.size = size
    yield out.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    if not size:
        return
    data = archive.extractfile(member)
    assert data is not None  # a regular member always has a file
    left = size
    while left:
        piece = data.read(min(left, READ_BYTES))
        if not piece:
            raise PolicyViolation("workspace-tar", f"{member.name}: cut short", "send it again")
        left -= len(piece)
        yield piece
    if size % BLOCK:
        yield b"\0" * (BLOCK - size % BLOCK)


def _folder(name: str, owner: Owner, mode: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    info.mtime = int(time.time())
    info.uid, info.gid = owner.uid, owner.gid
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _refused(member: str, why: str) -> PolicyViolation:
    return PolicyViolation("tar-member", f"{member!r} is {why}", "the job does not start")


def _too_large(what: str, max_bytes: int) -> PolicyViolation:
    return PolicyViolation(
        "transfer-size", f"{what} is over {max_bytes} bytes", "the job does not start"
    )
