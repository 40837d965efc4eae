"""A job's submit writes its queued record in one step, only if its id is free.

Real Redis (the session's).
"""

from __future__ import annotations

import json
import uuid
from unittest import mock

import redis

from dockfleet import keys
from dockfleet.store import job_records
from tests.conftest import random_name
from tests.store.test_job_metrics import RETENTION, SPEC


def test_a_submit_writes_the_queued_record_with_the_retention_as_its_ttl(
    client: redis.Redis,
) -> None:
    job_id = random_name("js")

    assert job_records.submit(client, job_id, SPEC, "h1", RETENTION)

    record = job_records.read(client, job_id)
    assert record["state"] == "queued"
    assert record["target"] == "h1"
    assert json.loads(record["spec"]) == SPEC
    assert record["created_at"] and record["submission"]
    assert 0 < client.ttl(keys.job(job_id)) <= RETENTION


def test_a_second_submit_of_a_taken_id_is_refused_and_changes_nothing(
    client: redis.Redis,
) -> None:
    # Given a job submitted
    job_id = random_name("js")
    assert job_records.submit(client, job_id, SPEC, None, RETENTION)
    record = job_records.read(client, job_id)

    # When another client submits the same id, for another host
    second = job_records.submit(client, job_id, {"other": True}, "h2", RETENTION)

    # Then it is refused, and the first record stands as it was
    assert second is False
    assert job_records.read(client, job_id) == record


def test_a_submit_repeated_after_a_lost_reply_is_its_own(client: redis.Redis) -> None:
    # Given a submit whose reply was lost (redis-py sends the same call again): both
    # sends carry the same token
    job_id = random_name("js")
    token = uuid.UUID(int=7)
    with mock.patch.object(job_records.uuid, "uuid4", return_value=token):
        first = job_records.submit(client, job_id, SPEC, None, RETENTION)
        repeated = job_records.submit(client, job_id, SPEC, None, RETENTION)

    # Then the repeat is told the record is its own
    assert first and repeated
    assert job_records.read(client, job_id)["submission"] == token.hex
