"""A job's claim takes its lease in the same step, and its finish lets the lease go in
the same step; the first result counts.

Real Redis (the session's).
"""

from __future__ import annotations

import redis

from dockfleet import keys
from dockfleet.store import job_records
from tests.conftest import random_name
from tests.store.test_job_metrics import RETENTION, claimed_job, ended


def test_a_claim_takes_the_lease_and_a_second_claimer_does_nothing(client: redis.Redis) -> None:
    # Given a job claimed on a host (its lease now the claimer's token)
    host = random_name("jc")
    job_id = claimed_job(client, host)
    assert client.get(keys.job_lease(job_id)) == "t"
    assert 0 < client.pttl(keys.job_lease(job_id)) <= 15000
    record = job_records.read(client, job_id)

    # When another worker claims it while the lease is held
    second = job_records.claim(
        client, job_id, host, RETENTION, lease_token="other", lease_ttl_ms=15000
    )

    # Then it is told the lease is taken, and nothing changed
    assert second == "taken"
    assert client.get(keys.job_lease(job_id)) == "t"
    assert job_records.read(client, job_id) == record


def test_a_finish_with_the_lease_token_lets_the_lease_go_with_the_result(
    client: redis.Redis,
) -> None:
    # Given a running job whose lease its claimer holds
    host = random_name("jf")
    job_id = claimed_job(client, host)

    # When another token finishes it, the lease stays with its holder; the result counts
    first = ended(job_id, host, "succeeded", 1.0)
    job_records.finish(client, job_id, first, RETENTION, lease_token="not-mine")
    assert client.get(keys.job_lease(job_id)) == "t"
    assert job_records.result_of(job_records.read(client, job_id)) == first

    # And when the holder finishes it, the lease is gone with it, the first result kept
    later = ended(job_id, host, "failed", 2.0)
    assert job_records.finish(client, job_id, later, RETENTION, lease_token="t") == first
    assert not client.exists(keys.job_lease(job_id))
    assert job_records.result_of(job_records.read(client, job_id)) == first
