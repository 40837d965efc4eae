"""A checked tar written into a folder so that nothing lands outside it and no link is followed.

The client's end of a job's artifacts (`dockfleet.artifact_tar.unpack`). Every member has
passed `dockfleet.tar_stream.MemberRules` first (no absolute name, no ``..``, nothing
below a link the tar itself made); `Unpacked` then writes it so that what is already in
the folder cannot redirect it either:

- each folder on a member's way is looked at once: a real folder (made when missing),
  never a link nor a file, or the member is refused;
- a file, link or hard link first removes what has its name (never a folder) and is then
  made anew, a file with ``O_EXCL | O_NOFOLLOW``: nothing is written through a link or
  into another name's inode;
- modes keep their permission bits but lose setuid, setgid, sticky and group/other write
  (``mode & 0o755``, as tarfile's ``tar`` filter does); times are kept; a folder gets its
  mode and time last, so that a read-only folder of the tar can still be filled;
- files belong to whoever unpacks them, as with ``docker cp`` out of a container: the
  job's uids mean nothing on the client's machine.

Why not ``TarFile.extract(filter="tar")``: it gives the same guarantees by resolving
each member's path (`realpath`) and looking up its owner's names, then copies its data
16 KiB at a time; that was half the client's CPU for 2,000 files (docs/benchmarks.md).
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
import tarfile
from pathlib import Path

from dockfleet.errors import PolicyViolation

#: the permission bits a member keeps
KEPT_MODE = 0o755
#: bytes read from the tar and written to a file at a time
COPY_BYTES = 1024 * 1024
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class Unpacked:
    """The folder a tar is being written into."""

    def __init__(self, target: Path) -> None:
        target.mkdir(parents=True, exist_ok=True)
        self.root = os.path.realpath(target)
        #: folders (relative) known to be real folders below the root
        self._folders: set[str] = {""}
        #: folder -> (mode, mtime) of the tar's folder members, set by `finish`
        self._folder_attrs: dict[str, tuple[int, int]] = {}

    def add(self, archive: tarfile.TarFile, member: tarfile.TarInfo, name: str) -> None:
        """Write `member` (the current member of `archive`) as `name`, a name that passed
        `MemberRules` (relative, normalized).

        Raises:
            PolicyViolation: something already in the folder is in its way (a link or a
                file where a folder must be, a folder where a file must be).
        """
        self._folder(posixpath.dirname(name))
        path = os.path.join(self.root, name)
        if member.isdir():
            self._folder(name)
            self._folder_attrs[name] = (member.mode & KEPT_MODE, int(member.mtime))
            return
        self._clear(path, name)
        if member.issym():
            os.symlink(member.linkname, path)
        elif member.islnk():
            os.link(os.path.join(self.root, member.linkname), path, follow_symlinks=False)
        else:
            self._write(archive, member, path)

    def finish(self) -> None:
        """Give the tar's folders their modes and times, the deepest first."""
        for name in sorted(self._folder_attrs, reverse=True):
            mode, mtime = self._folder_attrs[name]
            path = os.path.join(self.root, name)
            os.chmod(path, mode)
            os.utime(path, (mtime, mtime))

    def _folder(self, name: str) -> None:
        if name in self._folders:
            return
        self._folder(posixpath.dirname(name))
        path = os.path.join(self.root, name)
        try:
            os.mkdir(path, 0o700)  # its own mode comes last, from the tar or as made
            os.chmod(path, KEPT_MODE)
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                raise _refused(name, "a link or a file of that name is in the way") from None
        self._folders.add(name)

    @staticmethod
    def _clear(path: str, name: str) -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except (IsADirectoryError, PermissionError) as exc:
            if exc.errno in (errno.EISDIR, errno.EPERM) and os.path.isdir(path):
                raise _refused(name, "a folder of that name is in the way") from None
            raise

    @staticmethod
    def _write(archive: tarfile.TarFile, member: tarfile.TarInfo, path: str) -> None:
        descriptor = os.open(path, _NEW_FILE, 0o600)
        with open(descriptor, "wb", closefd=True) as out:
            if member.size:
                data = archive.extractfile(member)
                assert data is not None  # a regular member always has a file
                left = member.size
                while left:
                    piece = data.read(min(left, COPY_BYTES))
                    if not piece:
                        raise _refused(member.name, "its data is cut short")
                    out.write(piece)
                    left -= len(piece)
            out.flush()  # before the time is set: a later write would move it
            os.fchmod(descriptor, member.mode & KEPT_MODE)
            os.utime(descriptor, (member.mtime, member.mtime))


def _refused(name: str, why: str) -> PolicyViolation:
    return PolicyViolation("tar-member", f"{name}: {why}", "nothing is written there")
