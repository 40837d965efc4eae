"""A job's artifacts: the paths it asks for (checked at submit) and what came out.

A path is relative to the job's working directory, and may be a .dockerignore-style
glob (``*`` within a folder, ``**`` across folders; `dockfleet.dockerignore`). One that
leaves the working directory (``../../etc``, an absolute path outside it) is refused
before anything is sent; an absolute path inside a working directory the spec names
is made relative to it.
"""

from __future__ import annotations

import posixpath
from typing import Literal

from pydantic import Field

from dockfleet.models.container_state import Result

#: GitLab's names: when a job's artifacts are kept, by the job's status
ArtifactsWhen = Literal["on_success", "on_failure", "always"]
#: characters that make a path a glob (`dockfleet.dockerignore`'s pattern syntax)
GLOB_CHARS = frozenset("*?[\\")


class ArtifactFile(Result):
    """One member of a job's stored artifacts: its path below the working directory."""

    path: str
    size: int = Field(default=0, description="bytes (0 for folders and links)")


class ArtifactsReport(Result):
    """What the worker stored of a job's artifacts (part of `JobResult`)."""

    files: list[ArtifactFile] = Field(default_factory=list)
    missing: list[str] = Field(
        default_factory=list, description="paths that matched nothing (a warning, not a failure)"
    )
    #: the Docker host and the worker machine that hold the tar (None: nothing stored)
    host: str | None = None
    machine: str | None = None
    size: int = Field(default=0, description="bytes of the stored tar")
    error: str | None = Field(default=None, description="why nothing was stored, if so")


def relative_path(path: str, working_dir: str | None) -> str:
    """`path` cleaned and relative to the working directory.

    Raises:
        ValueError: it leaves the working directory, or is absolute where the spec names
            no working directory to be inside of.
    """
    if not path or "\0" in path:
        raise ValueError(f"{path!r}: not a path")
    if path.startswith("/"):
        if working_dir is None:
            raise ValueError(
                f"{path!r}: give it relative to the working directory (the job names none)"
            )
        base = posixpath.normpath(working_dir)
        cleaned = posixpath.normpath(path)
        if cleaned != base and not cleaned.startswith(base.rstrip("/") + "/"):
            raise ValueError(f"{path!r} is outside the working directory {working_dir}")
        path = posixpath.relpath(cleaned, base)
    cleaned = posixpath.normpath(path)
    if cleaned == ".." or cleaned.startswith("../"):
        raise ValueError(f"{path!r} leaves the working directory")
    return "**" if cleaned == "." else cleaned  # the whole working directory


def literal_prefix(pattern: str) -> str:
    """The folder above a glob's first wildcard ("" for the working directory itself); a
    plain path is its own prefix."""
    parts = pattern.split("/")
    for index, part in enumerate(parts):
        if GLOB_CHARS & set(part):
            return "/".join(parts[:index])
    return "" if pattern == "." else pattern


def is_kept(when: ArtifactsWhen, status: str) -> bool:
    """Whether a job that ended with `status` keeps its artifacts (GitLab's rule; a job
    canceled or in error is a failure here)."""
    return when == "always" or (when == "on_success") == (status == "succeeded")
