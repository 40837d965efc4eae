"""A job's stored artifacts: where the tar is and what it holds (`keys.job_artifacts`).

The hash names the Docker host whose workers hold the tar (``host``: the queue a
fetch is sent to), the worker machine that wrote it (``machine``) and the tar's path
there (``file``), its ``size``, when it expires (``expires``, epoch seconds), and the
`ArtifactsReport` the job's result carries (``report``, JSON). It is written once the
tar is complete (renamed into place), so a record always names a whole tar; it expires
with the artifacts (``artifact_ttl``), and beat's cleanup removes the tar of a record
that is gone or past ``expires``.

While a worker copies them out (`keys.job_artifacts_copy`), a second hash names the
part file it writes, so that a fetch can follow the copy as it is written instead of
waiting for it to end (`worker.jobs.artifact_follow`); it is removed when the copy ends,
whole or not.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import redis

from dockfleet import keys
from dockfleet.models.artifacts import ArtifactsReport
from dockfleet.store import owned_keys
from dockfleet.store.replies import text


@dataclass(frozen=True)
class Stored:
    """A job's artifacts as the record says."""

    host: str
    machine: str
    file: str
    size: int
    expires: float
    report: ArtifactsReport


def record(
    client: redis.Redis, job_id: str, file: str, report: ArtifactsReport, ttl: int
) -> Stored:
    """Say that the job's complete tar is at `file` on `report.machine` for `ttl` seconds."""
    assert report.host and report.machine
    stored = Stored(report.host, report.machine, file, report.size, time.time() + ttl, report)
    fields = {
        "host": stored.host,
        "machine": stored.machine,
        "file": file,
        "size": stored.size,
        "expires": f"{stored.expires:.3f}",
        "report": report.model_dump_json(),
    }
    pipe = client.pipeline(transaction=True)
    pipe.delete(keys.job_artifacts(job_id))  # an adopter's tar replaces an earlier one's
    pipe.hset(keys.job_artifacts(job_id), mapping=fields)  # type: ignore[arg-type]
    pipe.expire(keys.job_artifacts(job_id), ttl)
    pipe.execute()
    return stored


def read(client: redis.Redis, job_id: str) -> Stored | None:
    """The job's stored artifacts; None when it has none (none stored, or expired)."""
    raw: Any = client.hgetall(keys.job_artifacts(job_id))
    if not raw:
        return None
    fields = {text(k): text(v) for k, v in raw.items()}
    return Stored(
        host=fields["host"],
        machine=fields["machine"],
        file=fields["file"],
        size=int(fields["size"]),
        expires=float(fields["expires"]),
        report=ArtifactsReport.model_validate_json(fields["report"]),
    )


def files_of(client: redis.Redis, job_ids: list[str]) -> dict[str, str]:
    """job id -> the tar its record names, for the jobs that still have a record."""
    pipe = client.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.hget(keys.job_artifacts(job_id), "file")
    return {
        job_id: text(file)
        for job_id, file in zip(job_ids, pipe.execute(), strict=True)
        if file is not None
    }


@dataclass(frozen=True)
class Copying:
    """A copy of a job's artifacts under way: the Docker host whose worker writes it,
    that worker's machine, and the part file there."""

    host: str
    machine: str
    part: str


def begin_copy(client: redis.Redis, job_id: str, copy: Copying, ttl: int) -> None:
    """Say that `copy` is being written (for `ttl` seconds at most); it replaces the
    record of an earlier copy (a dead worker's, when an adopter copies again)."""
    client.set(keys.job_artifacts_copy(job_id), _copy_value(copy), ex=ttl)


def end_copy(client: redis.Redis, job_id: str, copy: Copying) -> None:
    """`copy` has ended (whole or not); a later copy's record stays."""
    owned_keys.release(client, keys.job_artifacts_copy(job_id), _copy_value(copy))


def copying(client: redis.Redis, job_id: str) -> Copying | None:
    """The copy of the job's artifacts under way; None when none is."""
    raw = client.get(keys.job_artifacts_copy(job_id))
    if raw is None:
        return None
    host, machine, part = text(raw).split("\n", 2)
    return Copying(host, machine, part)


def _copy_value(copy: Copying) -> str:
    return f"{copy.host}\n{copy.machine}\n{copy.part}"  # (host and machine names hold no newline)
