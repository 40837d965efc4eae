"""A fetch that follows a copy of artifacts as it is written, on real Redis: it sends the
whole tar once the record of the whole tar names the file it has open, and stops, saying
why, when the copy stops or is begun again."""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis

from dockfleet.models.artifacts import ArtifactsReport
from dockfleet.store import artifacts as artifact_records
from worker.jobs.artifact_follow import CopyStopped, following

CHUNK = 64 * 1024


@pytest.fixture
def client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


def begin(client: redis.Redis, part: Path) -> tuple[str, artifact_records.Copying]:
    job_id = f"follow-{uuid.uuid4().hex[:8]}"
    copy = artifact_records.Copying("h", "m", str(part))
    artifact_records.begin_copy(client, job_id, copy, 60)
    return job_id, copy


def test_a_follower_sends_the_copy_as_it_is_written_and_ends_with_the_whole_tar(
    client: redis.Redis, tmp_path: Path
) -> None:
    # Given a copy under way that writes its part in three steps, then renames and records it
    part, final = tmp_path / "j.tar.x.part", tmp_path / "j.tar"
    part.write_bytes(b"a" * 100_000)
    job_id, copy = begin(client, part)

    def write_the_rest() -> None:
        with part.open("ab") as out:
            for piece in (b"b" * 70_000, b"c" * 5):
                time.sleep(0.1)
                out.write(piece)
                out.flush()
        time.sleep(0.1)
        os.replace(part, final)
        report = ArtifactsReport(host="h", machine="m", size=final.stat().st_size)
        artifact_records.record(client, job_id, str(final), report, 60)
        artifact_records.end_copy(client, job_id, copy)

    writer = threading.Thread(target=write_the_rest)
    writer.start()
    # When a follower reads it from the start
    got = b"".join(following(client, job_id, copy, CHUNK, idle=10))
    writer.join()
    # Then it sent every byte, in order, and ended with the copy
    assert got == b"a" * 100_000 + b"b" * 70_000 + b"c" * 5


def test_a_follower_stops_when_the_copy_stops_or_another_copy_is_recorded(
    client: redis.Redis, tmp_path: Path
) -> None:
    # Given a copy that stops before it is whole (its part removed, its record dropped)
    part = tmp_path / "a.part"
    part.write_bytes(b"x" * 10)
    job_id, copy = begin(client, part)
    chunks = following(client, job_id, copy, CHUNK, idle=10)
    assert next(chunks) == b"x" * 10
    artifact_records.end_copy(client, job_id, copy)
    # Then the follower stops, saying so, instead of passing the part off as whole
    with pytest.raises(CopyStopped, match="stopped before it was whole"):
        next(chunks)

    # Given a copy whose job then records another copy's tar (an adopter's)
    part = tmp_path / "b.part"
    part.write_bytes(b"y" * 10)
    job_id, copy = begin(client, part)
    chunks = following(client, job_id, copy, CHUNK, idle=10)
    assert next(chunks) == b"y" * 10
    other = tmp_path / "other.tar"
    other.write_bytes(b"z" * 10)
    report = ArtifactsReport(host="h", machine="m", size=10)
    artifact_records.record(client, job_id, str(other), report, 60)
    with pytest.raises(CopyStopped, match="copied the artifacts again"):
        next(chunks)

    # Given a copy that writes nothing for longer than the follower waits
    part = tmp_path / "c.part"
    part.write_bytes(b"")
    job_id, copy = begin(client, part)
    with pytest.raises(CopyStopped, match="wrote nothing for 0.2 s"):
        next(following(client, job_id, copy, CHUNK, idle=0.2))
