"""Artifacts' tars, both ends: members picked while the engine's tar streams (the worker),
and the stored tar unpacked into a folder (the client).

Both read the tar as it comes (`dockfleet.tar_stream.ChunkReader`), one member at a
time, and check every member (`dockfleet.tar_stream.MemberRules`): no absolute name, no
``..``, nothing below a link of the same tar. A symlink stays a symlink and is never
followed, neither when it is picked (the engine keeps a link as a link) nor when it
is unpacked (`dockfleet.tar_unpack` writes nothing through a link of the tar or one
already there).
"""

from __future__ import annotations

import copy
import tarfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from dockfleet.tar_stream import READ_BYTES, ChunkReader, MemberRules, copied
from dockfleet.tar_unpack import Unpacked

#: a member's name in the engine's tar -> its name in the artifacts (None: not picked)
Rename = Callable[[str], str | None]


def picked(
    chunks: Iterable[bytes],
    rename: Rename,
    rules: MemberRules,
    on_member: Callable[[str, tarfile.TarInfo], None],
) -> Iterator[bytes]:
    """The members of the tar in `chunks` that `rename` names, written again under those
    names with their modes, owners and times (no end blocks: several archives make one
    tar). A member whose new name `rules` has seen already is skipped (two globs may
    pick it), and `on_member` is told of every member written.

    Raises:
        PolicyViolation: a picked member breaks `rules` (a hard link to a file that was
            not picked included).
    """
    reader = ChunkReader(chunks)
    with tarfile.open(fileobj=reader, mode="r|", bufsize=READ_BYTES) as archive:
        while (member := archive.next()) is not None:
            archive.members.clear()  # type: ignore[attr-defined]  # read once: keep no list
            name = rename(member.name)
            if name is None or name in rules.kinds:
                continue
            renamed = copy.copy(member)
            renamed.name = name
            if member.islnk():
                renamed.linkname = rename(member.linkname) or member.linkname
            rules.check(renamed)
            on_member(name, member)
            link = renamed.linkname if member.islnk() or member.issym() else ""
            yield from copied(archive, member, name, link)


def unpack(chunks: Iterable[bytes], target: Path) -> int:
    """Unpack the tar in `chunks` into the folder `target` (made if missing); returns the
    number of members. Nothing is written through a link (`dockfleet.tar_unpack`).

    Raises:
        PolicyViolation: a member breaks `MemberRules`, or something already in `target`
            is in its way.
    """
    folder = Unpacked(target)
    reader = ChunkReader(chunks)
    rules = MemberRules()
    count = 0
    with tarfile.open(fileobj=reader, mode="r|", bufsize=READ_BYTES) as archive:
        while (member := archive.next()) is not None:
            archive.members.clear()  # type: ignore[attr-defined]
            folder.add(archive, member, rules.check(member))
            count += 1
    folder.finish()
    return count
