"""A job's stored artifacts: where the tar is and what it holds (`keys.job_artifacts`).

The hash names the Docker host whose workers hold the tar (``host``: the queue a
fetch is sent to), the worker machine that wrote it (``machine``) and the tar's path
there (``file``), its ``size``, when it expires (``expires``, epoch seconds), and the
`ArtifactsReport` the job's result carries (``report``, JSON). It is written once the
tar is complete (renamed into place), so a record always names a whole tar; it expires
with the artifacts (``artifact_ttl``), and beat's cleanup removes the tar of a record
that is gone or past ``expires``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import redis

from dockfleet import keys
from dockfleet.models.artifacts import ArtifactsReport
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
