""".dockerignore files, read and matched as the docker CLI does: the fleet's one matcher.

Builds (`dockfleet.client.uploads`) and job workspaces (`dockfleet.client.folder_tar`)
both exclude files with it; a job's artifacts are picked with it (`Matcher.selects`).
It is a port of moby's ``patternmatcher`` (what the docker CLI and BuildKit use), not
of ``fnmatch``, because the two differ where it shows:

- ``*`` and ``?`` never match ``/``: ``*.key`` excludes ``a.key`` at the top, not
  ``sub/a.key`` (write ``**/*.key`` for every folder);
- ``**`` matches any number of folders, none included (``**/x`` matches ``x``);
- a pattern that matches a folder excludes everything below it;
- ``!pattern`` re-includes; the last pattern that matches a path decides;
- patterns are cleaned like paths (``./a//b/`` is ``a/b``; a leading ``/`` is dropped),
  lines starting with ``#`` are comments, and blank lines are skipped.

No Python library ships these semantics (``pathspec`` is gitignore's, where ``*.key``
matches in every folder; docker-py's own port lives in the Docker SDK, which the
producer side never imports), hence this module.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from dockfleet.errors import InvalidSpec

FILE_NAME = ".dockerignore"
#: characters that mean something to a regex and nothing to a pattern (moby's shouldEscape)
_LITERAL = set(".+()|{}$")


@dataclass(frozen=True)
class Pattern:
    """One line of a .dockerignore: a path pattern, maybe an exception (``!``)."""

    text: str
    exception: bool
    #: how moby matches it: "exact", "prefix" (``a/**``), "suffix" (``**/a``) or "regex"
    kind: str
    regex: re.Pattern[str]

    def matches(self, path: str) -> bool:
        """Whether the pattern matches `path` (slash-separated, relative) or a folder above it."""
        if self._matches(path):
            return True
        parts = path.split("/")[:-1]
        return any(self._matches("/".join(parts[: i + 1])) for i in range(len(parts)))

    def _matches(self, path: str) -> bool:
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])
        return self.regex.match(path) is not None


class Matcher:
    """The patterns of one .dockerignore; `excluded(path)` says whether a path is left out."""

    def __init__(self, lines: list[str]) -> None:
        self.patterns = [_pattern(line) for line in _cleaned(lines)]

    @property
    def has_exceptions(self) -> bool:
        return any(p.exception for p in self.patterns)

    def excluded(self, path: str) -> bool:
        """Whether `path` (relative, slash-separated) is excluded: the last matching pattern
        decides, a pattern matching a folder above the path counting as a match."""
        verdict = False
        for pattern in self.patterns:
            # A pattern that cannot change the verdict is not evaluated (moby does the same).
            if pattern.exception == verdict and pattern.matches(path):
                verdict = not pattern.exception
        return verdict

    def selects(self, path: str) -> bool:
        """`excluded`, read the other way by patterns that pick rather than leave out (a
        job's artifacts): a pattern picks what it matches and everything below it, and
        ``!pattern`` leaves out again."""
        return self.excluded(path)

    def may_include_below(self, folder: str) -> bool:
        """Whether an exception could re-include something below an excluded `folder`, so
        that a walk must still enter it (else the whole folder is skipped unread)."""
        prefix = folder + "/"
        return any(p.exception and (p.text + "/").startswith(prefix) for p in self.patterns)


def read(root: Path) -> Matcher:
    """The matcher of `root`'s .dockerignore (one that excludes nothing if there is none).

    A .dockerignore that is a symlink leading out of `root` is refused: nothing of the
    tree is read through a link out of it.
    """
    path = root / FILE_NAME
    if not path.exists() and not path.is_symlink():
        return Matcher([])
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()) or not resolved.is_file():
        raise InvalidSpec(f"{path}: must be a file inside {root} (not a link out of it)")
    text = resolved.read_bytes().decode("utf-8", "replace").removeprefix("\ufeff")
    return Matcher(text.splitlines())


def _cleaned(lines: list[str]) -> list[str]:
    """The patterns of the file's lines, as the docker CLI reads them (``ReadAll``)."""
    patterns = []
    for raw in lines:
        if raw.startswith("#"):
            continue
        line = raw.strip()
        if not line:
            continue
        exception = line.startswith("!")
        if exception:
            line = line[1:].strip()
        if line:
            line = _clean(line)
            if len(line) > 1 and line.startswith("/"):
                line = line[1:]
        patterns.append(("!" if exception else "") + line)
    return patterns


def _clean(path: str) -> str:
    """Go's ``filepath.Clean``: like ``normpath``, but one leading slash at most."""
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def _pattern(line: str) -> Pattern:
    exception = line.startswith("!")
    text = _clean(line[1:] if exception else line)
    if exception and not line[1:]:
        raise InvalidSpec(f"{FILE_NAME}: illegal exclusion pattern '!'")
    kind, source = _translate(text)
    try:
        regex = re.compile(source)
    except re.error as exc:
        raise InvalidSpec(f"{FILE_NAME}: bad pattern {text!r}: {exc}") from None
    return Pattern(text, exception, kind, regex)


def _translate(pattern: str) -> tuple[str, str]:
    """moby's reading of a pattern: how it is matched, and its regex over slash paths."""
    out, kind = ["^"], "exact"
    i, n = 0, len(pattern)
    while i < n:
        first = i == 0
        ch = pattern[i]
        i += 1
        if ch == "*" and i < n and pattern[i] == "*":
            i += 1
            if i < n and pattern[i] == "/":
                i += 1  # "**/" is "**"
            if i < n:
                out.append("(.*/)?")  # any run of whole folders, none included
                kind = "regex"
            elif kind == "exact":
                kind = "prefix"  # "a/**": everything below a/
            else:
                out.append(".*")
                kind = "regex"
            if first:
                kind = "suffix"
        elif ch == "*":
            out.append("[^/]*")
            kind = "regex"
        elif ch == "?":
            out.append("[^/]")
            kind = "regex"
        elif ch in _LITERAL:
            out.append("\\" + ch)
        elif ch == "\\":
            if i < n:
                out.append("\\" + pattern[i])
                i += 1
            else:
                out.append("\\\\")
        else:
            out.append(ch)
            if ch in "[]":
                kind = "regex"
    out.append("$")
    return kind, "".join(out)
