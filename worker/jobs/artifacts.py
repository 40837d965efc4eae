"""The teardown step that copies a job's artifacts out of its stopped container.

For each path or glob the job asks for (relative to its working directory), the engine
streams the tar of the glob's longest literal folder (`worker.engine.containers.
get_archive`); the members the globs match are picked as they pass (the one matcher:
`dockfleet.dockerignore`, where a path also picks everything below it and ``!path``
leaves out), checked, renamed relative to the working directory and written to the
job's tar in the worker's folder (`artifact_folder`). Nothing holds the whole tar.
A path that matches nothing is listed as missing: a warning, not a failure. While the
copy runs, a record names its part file, so that a client's fetch can follow it as it
is written (`worker.jobs.artifact_follow`).

Exactly once: the copy runs after the job's outcome is recorded and before its
container is removed. A worker that dies mid-copy leaves a part nobody lists and the
container in place; the adopter finds the outcome recorded, no artifacts record, and
copies again. One that died after recording them is not copied again.
"""

from __future__ import annotations

import logging
import posixpath
import tarfile

from dockfleet.artifact_tar import Rename, picked
from dockfleet.dockerignore import Matcher
from dockfleet.errors import FleetError, NotFound
from dockfleet.models.artifacts import ArtifactFile, ArtifactsReport, is_kept, literal_prefix
from dockfleet.models.jobs import JobResult
from dockfleet.names import object_name
from dockfleet.redis_retry import retrying
from dockfleet.store import artifacts as artifact_records
from dockfleet.tar_stream import END, MemberRules
from worker.engine import containers as engine
from worker.engine.errors import translate
from worker.jobs import artifact_folder
from worker.jobs.job_run import JobRun

log = logging.getLogger(__name__)


def collect(run: JobRun, result: JobResult) -> JobResult:
    """`result` with the job's artifacts report, copying them out first if they are to
    be kept and no earlier run of the job stored them."""
    spec = run.spec
    if not spec.artifacts or not is_kept(spec.artifacts_when, result.status):
        return result
    rt = run.rt
    stored = retrying(lambda: artifact_records.read(rt.redis, run.job_id), "reading artifacts")
    if stored is not None:  # an earlier run of the job stored them whole
        return result.model_copy(update={"artifacts": stored.report})
    try:
        report = copy_out(run, object_name(run.job_id), spec.artifacts)
    except Exception as exc:
        found = translate(exc, rt.host) or exc
        if isinstance(found, NotFound):  # a job that failed before its container was made
            error = "the job's container is gone (or was never made)"
        elif isinstance(found, FleetError):
            error = str(found)
        else:
            error = f"{type(exc).__name__}: {exc}"
            log.warning("job %s: artifacts not stored", run.job_id, exc_info=True)
        report = ArtifactsReport(missing=spec.artifacts, error=error)
    if report.missing:
        log.warning("job %s: artifacts matched nothing: %s", run.job_id, report.missing)
    return result.model_copy(update={"artifacts": report})


def copy_out(run: JobRun, container: str, patterns: list[str]) -> ArtifactsReport:
    """Copy what `patterns` match in `container` into the job's tar; the report."""
    rt = run.rt
    working_dir = engine.working_dir(rt.docker, container)
    selector = Matcher(patterns)
    each = {p: Matcher([p]).patterns for p in patterns}
    hit: set[str] = set()
    files: list[ArtifactFile] = []
    rules = MemberRules()

    def on_member(name: str, member: tarfile.TarInfo) -> None:
        files.append(ArtifactFile(path=name, size=member.size if member.isreg() else 0))
        for pattern, found in each.items():
            if pattern not in hit and any(not f.exception and f.matches(name) for f in found):
                hit.add(pattern)

    part = artifact_folder.part_path(rt, run.job_id)
    # Said before the first byte, so that a fetch may follow the copy as it is written.
    copy = artifact_records.Copying(rt.host, artifact_folder.MACHINE, str(part))
    ttl = int(artifact_folder.PART_MAX_AGE)
    retrying(lambda: artifact_records.begin_copy(rt.redis, run.job_id, copy, ttl), "copy")
    try:
        with part.open("wb", buffering=artifact_folder.WRITE_BUFFER) as out:
            for prefix in _prefixes(patterns):
                source = posixpath.normpath(posixpath.join(working_dir, prefix))
                chunks = engine.get_archive(rt.docker, container, source)
                if chunks is None:
                    continue  # nothing there: its patterns are missing
                rename = _renamer(posixpath.basename(source), prefix, selector)
                for piece in picked(chunks, rename, rules, on_member):
                    out.write(piece)
            out.write(END)
        missing = [p for p in patterns if p not in hit]
        report = ArtifactsReport(files=files, missing=missing)
        if not files:
            part.unlink()
            return report
        return artifact_folder.complete(rt, run.job_id, part, report)
    finally:
        part.unlink(missing_ok=True)
        retrying(lambda: artifact_records.end_copy(rt.redis, run.job_id, copy), "copy")


def _prefixes(patterns: list[str]) -> list[str]:
    """The folders to ask the engine for: each pattern's literal prefix, none below another."""
    found = sorted({literal_prefix(p) for p in patterns if not p.startswith("!")})
    if "" in found:
        return [""]
    kept: list[str] = []
    for prefix in found:  # sorted: a folder comes before what is below it
        if not any(prefix == k or prefix.startswith(k + "/") for k in kept):
            kept.append(prefix)
    return kept


def _renamer(base: str, prefix: str, selector: Matcher) -> Rename:
    """The engine names members from the folder asked for (`base`/...): their names
    relative to the working directory, when `selector` picks them."""

    def rename(name: str) -> str | None:
        name = name.rstrip("/")
        if base:
            if name != base and not name.startswith(base + "/"):
                return None
            rest = name[len(base) :].lstrip("/")
        else:
            rest = name.removeprefix("./").lstrip("/")
        relative = f"{prefix}/{rest}".strip("/") if prefix else rest
        if not relative or not selector.selects(relative):
            return None
        return relative

    return rename
