"""Finishing a job: the first result counts, and its holder's lease goes in the same step.

Real Redis (the session's).
"""

from __future__ import annotations

import redis

from dockfleet import keys
from dockfleet.store import job_leases, job_records
from tests.conftest import random_name
from tests.store.test_job_metrics import RETENTION, claimed_job, ended


def test_a_finish_with_the_lease_token_lets_the_lease_go_with_the_result(
    client: redis.Redis,
) -> None:
    # Given a running job whose lease a worker holds
    host = random_name("jf")
    job_id = claimed_job(client, host)
    assert job_leases.take(client, job_id, "mine", 15000, host, retake=False) == "held"

    # When another token finishes it, the lease stays with its holder; the result counts
    first = ended(job_id, host, "succeeded", 1.0)
    job_records.finish(client, job_id, first, RETENTION, lease_token="not-mine")
    assert client.get(keys.job_lease(job_id)) == "mine"
    assert job_records.result_of(job_records.read(client, job_id)) == first

    # And when the holder finishes it, the lease is gone with it, the first result kept
    later = ended(job_id, host, "failed", 2.0)
    assert job_records.finish(client, job_id, later, RETENTION, lease_token="mine") == first
    assert not client.exists(keys.job_lease(job_id))
    assert job_records.result_of(job_records.read(client, job_id)) == first
