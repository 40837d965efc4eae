"""The worker's folder of job artifacts: one tar per job, written whole or not at all.

Why a folder the worker owns (``DOCKFLEET_ARTIFACTS_DIR``, by default
``<state_dir>/artifacts``; a volume in docker-compose.yml) and not a Docker volume
or Redis: artifacts can be large and live a day, which Redis must not hold; a folder
is written and read as a stream with plain file calls and needs no helper container
to reach (a volume would). Each job's artifacts are one tar, ``<job id>.tar``, written
as ``<job id>.tar.<token>.part`` and renamed once complete, so a tar that exists is
whole; the record (`dockfleet.store.artifacts`) is written after the rename and names
the machine that holds it. A copy cut by a dead worker leaves only a ``.part`` that
nothing lists; the adopter copies again, and cleanup removes old parts.

The limitation: a fetch goes to the Docker host's queue, so any worker of that host may
take it. Where several worker machines serve one Docker host, give them one shared
folder; otherwise a worker that does not hold the tar refuses the fetch and says which
machine does. Celery's per-node queues (``worker_direct``) do work with the fleet's
broker transport (tried: a task sent to ``worker_direct("node@machine")`` reached that
node only), but the fleet's workers do not consume them yet: turning them on adds a
queue per worker that the requeue sweep, the queue-depth metric and the consumer
watchdog do not watch, and a message for a dead node would wait there until it expired.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from dockfleet.models.artifacts import ArtifactsReport
from dockfleet.redis_retry import retrying
from dockfleet.store import artifacts as artifact_records
from dockfleet.store import transfers
from dockfleet.transfer import Limits, send
from worker.jobs.artifact_follow import CopyStopped, following
from worker.runtime import Runtime

#: this worker's machine, as its artifact records name it
MACHINE = socket.gethostname()
SUFFIX, PART = ".tar", ".part"
#: a part older than this is a dead copy's (a live copy finishes well within it)
PART_MAX_AGE = 3600.0
#: a tar this young may be between its rename and its record: never removed (its record
#: lives ``artifact_ttl`` from then, so a shorter TTL shortens this too)
RECORD_GRACE = 60.0
WRITE_BUFFER = 1024 * 1024


def folder(rt: Runtime) -> Path:
    path = rt.settings.artifacts_folder
    path.mkdir(parents=True, exist_ok=True)
    return path


def part_path(rt: Runtime, job_id: str) -> Path:
    """A new temporary name for the job's tar (a copy never writes another's part)."""
    return folder(rt) / f"{job_id}{SUFFIX}.{uuid.uuid4().hex[:12]}{PART}"


def complete(rt: Runtime, job_id: str, part: Path, report: ArtifactsReport) -> ArtifactsReport:
    """Rename the written `part` into place and record it; the report, with where it is."""
    final = folder(rt) / f"{job_id}{SUFFIX}"
    os.replace(part, final)
    done = report.model_copy(
        update={"host": rt.host, "machine": MACHINE, "size": final.stat().st_size}
    )
    ttl = rt.settings.artifact_ttl
    retrying(
        lambda: artifact_records.record(rt.redis, job_id, str(final), done, ttl),
        "recording artifacts",
    )
    return done


def send_tar(rt: Runtime, job_id: str, transfer_id: str) -> None:
    """Stream the job's tar through the transfer the client opened, or abort it saying why.
    While the tar is still being copied out, the stream follows the copy.

    Raises:
        TransferFailed: the client went away or aborted.
    """
    limits = Limits.of(rt.settings)
    stored = retrying(lambda: artifact_records.read(rt.redis, job_id), "reading artifacts")
    copy = None if stored else retrying(lambda: artifact_records.copying(rt.redis, job_id), "copy")
    reason = ""
    if copy is not None:
        if copy.machine == MACHINE or Path(copy.part).parent.is_dir():
            _send_following(rt, job_id, transfer_id, copy, limits)
            return
        reason = _elsewhere(job_id, f"are being copied on worker machine {copy.machine}")
    elif stored is None:
        reason = f"job {job_id} has no stored artifacts (none kept, or expired)"
    elif stored.machine != MACHINE and not Path(stored.file).is_file():
        reason = _elsewhere(job_id, f"are on worker machine {stored.machine}")
    elif not Path(stored.file).is_file():
        reason = f"the artifacts of job {job_id} are gone from {MACHINE} (removed or expired)"
    if reason:
        retrying(lambda: transfers.abort(rt.redis, transfer_id, reason, limits.ttl), "abort")
        return
    assert stored is not None
    send(rt.redis, transfer_id, _chunks(Path(stored.file), limits.chunk_bytes), limits)


def _elsewhere(job_id: str, where: str) -> str:
    """Why this worker cannot send artifacts that another machine of its host holds."""
    return (
        f"the artifacts of job {job_id} {where}; this worker ({MACHINE}) serves the same "
        "Docker host without them: give the host's workers one shared DOCKFLEET_ARTIFACTS_DIR"
    )


def _send_following(
    rt: Runtime, job_id: str, transfer_id: str, copy: artifact_records.Copying, limits: Limits
) -> None:
    """Stream the copy under way as it is written; abort saying why if it stops."""
    chunks = following(rt.redis, job_id, copy, limits.chunk_bytes, float(limits.ttl))
    try:
        send(rt.redis, transfer_id, chunks, limits)
    except CopyStopped as exc:
        why = str(exc)
        retrying(lambda: transfers.abort(rt.redis, transfer_id, why, limits.ttl), "abort")


def _chunks(path: Path, size: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while piece := handle.read(size):
            yield piece


def expire(rt: Runtime, *, dry_run: bool = False) -> list[tuple[str, int]]:
    """Remove the tars whose record is gone (expired) and the parts of dead copies;
    returns (name, bytes) of each."""
    base = rt.settings.artifacts_folder
    if not base.is_dir():
        return []
    now = time.time()
    tars, removed = {}, []
    for entry in os.scandir(base):
        age = now - entry.stat(follow_symlinks=False).st_mtime
        if entry.name.endswith(PART) and age > PART_MAX_AGE:
            removed.append(entry)
        elif entry.name.endswith(SUFFIX) and age > min(RECORD_GRACE, rt.settings.artifact_ttl):
            tars[entry.name.removesuffix(SUFFIX)] = entry
    if tars:
        recorded = retrying(
            lambda: artifact_records.files_of(rt.redis, list(tars)), "reading artifacts"
        )
        removed += [e for job_id, e in tars.items() if recorded.get(job_id) != e.path]
    done = []
    for entry in removed:
        size = entry.stat(follow_symlinks=False).st_size
        if not dry_run:
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                continue  # another worker sharing the folder removed it first
        done.append((entry.name, size))
    return done
