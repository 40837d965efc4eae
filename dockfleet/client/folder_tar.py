"""A folder of the client's machine as a tar, planned first and then streamed in chunks.

`plan` walks the folder once, without reading a file: it applies the folder's
``.dockerignore`` (`dockfleet.dockerignore`, the one matcher), makes each member's
header and adds up the tar's exact size, so that a folder over its cap is refused
before anything is sent or run. `chunks` then reads the files and yields the tar
in pieces: nothing holds the whole tar. Builds (`uploads`) and job workspaces
(`workspace_upload`) both send folders this way.

What the tar keeps, as ``docker cp`` does: file modes, symlinks as symlinks
(never followed: a link out of the tree stays a link), hard links within the tree,
modification times. Owners are left out (uid/gid 0, no names): the worker gives
the files to the job's user. Sockets, FIFOs and devices are skipped.
"""

from __future__ import annotations

import os
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dockfleet import dockerignore
from dockfleet.errors import InvalidSpec
from dockfleet.tar_stream import END, header

BLOCK = tarfile.BLOCKSIZE


@dataclass(frozen=True, slots=True)
class Member:
    path: Path
    header: bytes
    #: bytes of content that follow the header (regular files only)
    size: int


@dataclass(frozen=True)
class Cap:
    """The largest tar allowed, and how a refusal names what is too large and what to do."""

    max_bytes: int
    what: str
    #: the setting that raises the cap
    setting: str

    def refusal(self, size: int, folder: Path) -> InvalidSpec:
        return InvalidSpec(
            f"{self.what}: {folder} is over {self.max_bytes} bytes ({size} so far); exclude "
            f"files with .dockerignore, or raise {self.setting}"
        )


@dataclass(frozen=True)
class FolderTar:
    root: Path
    members: list[Member]
    #: the tar's exact size in bytes
    size: int
    files: int


def plan(folder: str | os.PathLike[str], cap: Cap, keep: tuple[str, ...] = ()) -> FolderTar:
    """Walk `folder` and plan its tar; `keep` names top-level files sent even when excluded.

    Raises:
        InvalidSpec: not a folder, a file that cannot be read, or a tar over `cap`
            (as soon as the walk passes it).
    """
    root = Path(folder)
    if not root.is_dir():
        raise InvalidSpec(f"{cap.what}: {root} is not a folder")
    matcher = dockerignore.read(root)
    members: list[Member] = []
    size, files = len(END), 0
    #: (device, inode) -> name of a file with several links: its later names are hard links
    linked: dict[tuple[int, int], str] = {}
    for path, relative in _walk(root, matcher, set(keep)):
        meta = os.lstat(path)
        kind, data, linkname = _kind(meta), 0, ""
        if kind == tarfile.REGTYPE:
            if meta.st_nlink > 1 and (meta.st_dev, meta.st_ino) in linked:
                kind, linkname = tarfile.LNKTYPE, linked[(meta.st_dev, meta.st_ino)]
            else:
                if not os.access(path, os.R_OK):
                    raise InvalidSpec(f"{cap.what}: cannot read {path}")
                linked.setdefault((meta.st_dev, meta.st_ino), relative)
                data, files = meta.st_size, files + 1
        elif kind == tarfile.SYMTYPE:
            linkname = os.readlink(path)
        elif kind is None:
            continue  # a socket, FIFO or device: nothing a job's tree needs
        # Owners are left out (the worker gives the files to the job's user); whole seconds
        # keep the header a plain ustar one.
        block = header(
            relative,
            kind,
            mode=meta.st_mode,
            size=data,
            mtime=int(meta.st_mtime),
            linkname=linkname,
        )
        members.append(Member(path, block, data))
        size += len(block) + _padded(data)
        if size > cap.max_bytes:
            raise cap.refusal(size, root)
    return FolderTar(root, members, size, files)


def chunks(tar: FolderTar, chunk_bytes: int) -> Iterator[bytes]:
    """The planned tar in pieces of about `chunk_bytes` (the last one shorter).

    Raises:
        InvalidSpec: a file changed size since `plan` (the tar would not be the planned one).
    """
    buffer = bytearray()
    for member in tar.members:
        buffer += member.header
        if member.size:
            with open(member.path, "rb") as handle:
                left = member.size
                while left:
                    if len(buffer) >= chunk_bytes:
                        yield bytes(buffer)
                        buffer.clear()
                    piece = handle.read(min(left, chunk_bytes - len(buffer)))
                    if not piece:
                        raise _changed(member.path)
                    buffer += piece
                    left -= len(piece)
                if handle.read(1):
                    raise _changed(member.path)
            buffer += b"\0" * (_padded(member.size) - member.size)
        if len(buffer) >= chunk_bytes:
            yield bytes(buffer)
            buffer.clear()
    buffer += END
    yield bytes(buffer)


def _walk(root: Path, matcher: dockerignore.Matcher, keep: set[str]) -> Iterator[tuple[Path, str]]:
    """(path, relative name) of every entry the .dockerignore leaves in, parents first,
    in name order; symlinks are entries, never followed."""
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise InvalidSpec(f"cannot read the folder {folder}: {exc.strerror}") from None
        below: list[tuple[Path, str]] = []
        for entry in entries:
            relative = prefix + entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            if matcher.excluded(relative) and relative not in keep:
                # An excluded folder is entered only if an exception may take back part of it.
                if is_dir and matcher.may_include_below(relative):
                    below.append((Path(entry.path), relative + "/"))
                continue
            yield Path(entry.path), relative
            if is_dir:
                below.append((Path(entry.path), relative + "/"))
        stack.extend(reversed(below))


def _kind(meta: os.stat_result) -> bytes | None:
    if stat.S_ISREG(meta.st_mode):
        return tarfile.REGTYPE
    if stat.S_ISDIR(meta.st_mode):
        return tarfile.DIRTYPE
    if stat.S_ISLNK(meta.st_mode):
        return tarfile.SYMTYPE
    return None


def _padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def _changed(path: Path) -> InvalidSpec:
    return InvalidSpec(f"{path} changed while it was sent; send it again")
