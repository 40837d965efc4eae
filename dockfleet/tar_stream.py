"""Tars that arrive as a stream of chunks: read member by member, checked, written again.

A tar from the other side of a transfer is never trusted: `MemberRules` refuses
what could put a file outside the folder it is unpacked into (an absolute name, a
``..``, a member below a symlink the tar itself made, a hard link to something
that is not an earlier file of the tar) and what a tree of files has no use for
(devices, FIFOs). `relocated` is the worker's use (a job's workspace, on its way
into the container): each member checked, moved below the target folder, given
to the job's user, and written out again in chunks, so that nothing holds the
whole tar. A job's artifacts are read the same way, both on the worker and on the
client (`dockfleet.artifact_tar`).
"""

from __future__ import annotations

import io
import posixpath
import struct
import tarfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from dockfleet.errors import PolicyViolation

BLOCK = tarfile.BLOCKSIZE
END = b"\0" * (2 * BLOCK)
#: what tarfile reads from the stream at a time (it copies its buffer on every read: small)
READ_BYTES = 64 * 1024
#: what `relocated` hands out at a time: headers and small files gathered into one write
OUT_BYTES = 1024 * 1024


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


_USTAR = struct.Struct("100s8s8s8s12s12s8s1s100s6s2s32s32s8s8s155s12s")
#: the largest number an octal field of 8 / 12 bytes holds (7 / 11 digits and a NUL)
_MAX_ID, _MAX_SIZE = 8**7 - 1, 8**11 - 1


def header(
    name: str,
    kind: bytes,
    *,
    mode: int,
    size: int = 0,
    mtime: int = 0,
    uid: int = 0,
    gid: int = 0,
    linkname: str = "",
) -> bytes:
    """A member's tar header: a plain ustar block when the member fits one (the usual
    case, about ten times cheaper than tarfile's), else tarfile's PAX headers."""
    if kind == tarfile.DIRTYPE and not name.endswith("/"):
        name += "/"  # as tar writes folders
    raw, link = name.encode("utf-8", "surrogateescape"), linkname.encode("utf-8", "surrogateescape")
    prefix, _, short = raw.rpartition(b"/") if len(raw) > 100 else (b"", b"", raw)
    fits = (
        raw.isascii()
        and link.isascii()
        and len(short) <= 100
        and len(prefix) <= 155
        and len(link) <= 100
        and max(uid, gid) <= _MAX_ID
        and 0 <= mtime <= _MAX_SIZE
        and size <= _MAX_SIZE
    )
    if not fits:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.size, info.mtime = kind, mode, size, mtime
        info.uid, info.gid, info.linkname = uid, gid, linkname
        return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    fields = [
        short,
        b"%07o\0" % (mode & 0o7777),
        b"%07o\0" % uid,
        b"%07o\0" % gid,
        b"%011o\0" % size,
        b"%011o\0" % mtime,
        b" " * 8,
        kind,
        link,
        b"ustar\0",
        b"00",
        b"",
        b"",
        b"",
        b"",
        prefix,
        b"",
    ]
    block = bytearray(_USTAR.pack(*fields))
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


@dataclass(frozen=True)
class Owner:
    uid: int
    gid: int


def relocated(
    chunks: Iterable[bytes], target: str, owner: Owner, max_bytes: int, *, what: str
) -> Iterator[bytes]:
    """The tar of `chunks`, checked, below the folder `target` (absolute), owned by `owner`,
    in pieces of about `OUT_BYTES` (each piece is one write to the engine).

    The output unpacks at ``/``: its first member is the target folder itself and
    every folder on the way to a member is there before it (made when the tar has
    none), so that unpacking never passes through a link that was already there.

    Raises:
        PolicyViolation: a member breaks `MemberRules`, or the tar passes `max_bytes`.
    """
    buffer = bytearray()
    for piece in _relocated(chunks, target, owner, max_bytes, what):
        buffer += piece
        if len(buffer) >= OUT_BYTES:
            yield bytes(buffer)
            buffer.clear()
    if buffer:  # (an empty piece would end a chunked upload early)
        yield bytes(buffer)


def _relocated(
    chunks: Iterable[bytes], target: str, owner: Owner, max_bytes: int, what: str
) -> Iterator[bytes]:
    prefix = posixpath.normpath(target).strip("/")
    reader = ChunkReader(chunks)
    rules = MemberRules()
    made: set[str] = set()
    yield _folder(prefix, owner, 0o755)
    with tarfile.open(fileobj=reader, mode="r|", bufsize=READ_BYTES) as archive:
        while (member := archive.next()) is not None:
            # A stream is read once: keep no list of 20,000 members.
            archive.members.clear()  # type: ignore[attr-defined]
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
    linkname = ""
    if member.issym():
        linkname = member.linkname
    elif member.islnk():
        linkname = f"{prefix}/{posixpath.normpath(member.linkname).lstrip('/')}"
    yield from copied(archive, member, name, linkname, owner)


def copied(
    archive: tarfile.TarFile,
    member: tarfile.TarInfo,
    name: str,
    linkname: str,
    owner: Owner | None = None,
) -> Iterator[bytes]:
    """`member` written again as `name` (a link's target `linkname`), its data streamed;
    owned by `owner`, else by the member's own ids."""
    size = member.size if member.isreg() else 0
    yield header(
        name,
        tarfile.REGTYPE if member.isreg() else member.type,
        mode=member.mode,
        size=size,
        mtime=int(member.mtime),
        uid=owner.uid if owner else member.uid,
        gid=owner.gid if owner else member.gid,
        linkname=linkname,
    )
    if not size:
        return
    data = archive.extractfile(member)
    assert data is not None  # a regular member always has a file
    left = size
    while left:
        piece = data.read(min(left, READ_BYTES))
        if not piece:
            raise PolicyViolation("transfer-tar", f"{member.name}: cut short", "send it again")
        left -= len(piece)
        yield piece
    if size % BLOCK:
        yield b"\0" * (BLOCK - size % BLOCK)


def folders(paths: list[str], owner: Owner, mode: int = 0o755) -> bytes:
    """A tar of the folders `paths` (absolute), owned by `owner`, that unpacks at ``/``."""
    return b"".join(_folder(path.strip("/"), owner, mode) for path in paths) + END


def _folder(name: str, owner: Owner, mode: int) -> bytes:
    return header(
        name, tarfile.DIRTYPE, mode=mode, mtime=int(time.time()), uid=owner.uid, gid=owner.gid
    )


def _refused(member: str, why: str) -> PolicyViolation:
    return PolicyViolation("tar-member", f"{member!r} is {why}", "the job does not start")


def _too_large(what: str, max_bytes: int) -> PolicyViolation:
    return PolicyViolation(
        "transfer-size", f"{what} is over {max_bytes} bytes", "the job does not start"
    )
