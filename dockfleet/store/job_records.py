"""A job's state in Redis and its transitions, shared by the client and the workers.

    queued ──claim──▶ running ──finish──▶ finished
       └──────── cancel (before any claim) ─────▶ finished (canceled)

Each transition is atomic on the job's hash: submit, claim, the first start,
finish and cancel are one Lua script each (`lua/job_*.lua`: one round trip, where
a WATCH transaction took three). So a cancel and a
worker's claim cannot both win, and `finish` keeps the first result it is given:
a job is reported once however many deliveries or adoptions it sees, and counted
once (`job_metrics`: the step that stores the first result counts it, in
`lua/job_end.lua`). The hash keeps the wire spec (secrets included, for requeue
and adoption) only while the job is active; it is dropped in the same step that
finishes it. The hash has a TTL from the step that writes it, and each act on
the job (submit, claim, its worker's lease renewals, finish) sets it to the
retention again: a record that nothing finishes (a send and a cancel that both
failed, a job whose every worker is gone) takes its secrets with it once the
retention has passed.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

import redis

from dockfleet import keys
from dockfleet.models.jobs import JobResult
from dockfleet.queues import host_queue, job_queue
from dockfleet.store import job_metrics
from dockfleet.store.log_entries import END_FIELD
from dockfleet.store.replies import text
from dockfleet.store.scripts import LuaScript

State = Literal["queued", "running", "finished"]
#: run: a first run; rerun: claimed before (a redelivery or an adoption); finished: done;
#: gone: a redelivered message for a job Redis no longer knows (finished, record expired);
#: elsewhere: the job runs on another host (its containers are there, and so is its report)
Claim = Literal["taken", "run", "rerun", "finished", "gone", "elsewhere"]
_RECORD_OUTCOME = LuaScript("outcome_record")
_SUBMIT = LuaScript("job_submit")
_CLAIM = LuaScript("job_claim", prelude=("job_end", "lease"))
_START = LuaScript("job_start", prelude="wait_math")
_FINISH = LuaScript("job_finish", prelude="job_end")
_CANCEL = LuaScript("job_cancel", prelude="job_end")
#: the watch sets of the queues' messages (`mark_sent`), as the scripts take them: the
#: shared queue's, and a host queue's without the host's name (the job's target ends it)
_QUEUED_SETS = (keys.queued_jobs(job_queue(None)), keys.queued_jobs(host_queue("")))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def submit(
    client: redis.Redis,
    job_id: str,
    wire_spec: dict[str, Any],
    host: str | None,
    retention: int,
) -> bool:
    """Record a new queued job, kept `retention` seconds unless acted on; False if the id
    is already taken."""
    key, token = keys.job(job_id), uuid.uuid4().hex
    fields = {
        "state": "queued",
        "spec": json.dumps(wire_spec),
        "created_at": now_iso(),
        "target": host or "",
        # Ours: a submit repeated after a lost reply is not mistaken for a taken id.
        "submission": token,
    }
    pairs = [part for field in fields.items() for part in field]
    return bool(_SUBMIT(client, [key], [retention, token, *pairs]))


def mark_sent(client: redis.Redis, job_id: str, queue: str) -> None:
    """The job's message is with the broker, in `queue`: watched until a worker claims it, so
    that a message the broker loses is sent again (`worker.jobs.requeue`)."""
    client.zadd(keys.queued_jobs(queue), {job_id: time.time()})


def read(client: redis.Redis, job_id: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in client.hgetall(keys.job(job_id)).items()}


def state(client: redis.Redis, job_id: str) -> str:
    """queued, running or finished; "" for a job Redis does not know (or no more)."""
    return str(client.hget(keys.job(job_id), "state") or "")


def mark_started(client: redis.Redis, job_id: str, stamp: str) -> None:
    """When the job's container started (the first start counts: an adoption keeps it);
    the first start also observes how long the job waited since its submit (`job_metrics`),
    in the same step (`lua/job_start.lua`), so a retried or repeated call counts nothing
    twice."""
    started = datetime.fromisoformat(stamp)
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    micros = (started - _EPOCH) // timedelta(microseconds=1)
    _START(
        client,
        [keys.job(job_id), keys.JOB_METRICS_HOSTS],
        [stamp, micros, *job_metrics.wait_args()],
    )


def cancel_requested(client: redis.Redis, job_id: str) -> bool:
    return client.hget(keys.job(job_id), "cancel") == "1"


def network(client: redis.Redis, job_id: str) -> str | None:
    """The pooled network the job took, if any."""
    held = client.hget(keys.job(job_id), "network")
    return str(held) if held else None


def hold_network(client: redis.Redis, job_id: str, name: str) -> str:
    """Record that the job uses pooled network `name`, unless it has one already (an
    earlier run of the job took it first); returns the network the job uses."""
    key = keys.job(job_id)
    if client.hsetnx(key, "network", name):
        return name
    return str(client.hget(key, "network"))


def states(client: redis.Redis, job_ids: Iterable[str]) -> dict[str, str]:
    """Each job's ``state``; "unknown" when the job has no record."""
    ids = sorted(set(job_ids))
    if not ids:
        return {}
    pipe = client.pipeline(transaction=False)
    for job_id in ids:
        pipe.hget(keys.job(job_id), "state")
    return {
        job_id: str(state or "unknown") for job_id, state in zip(ids, pipe.execute(), strict=True)
    }


def states_and_specs(
    client: redis.Redis, job_ids: list[str]
) -> list[tuple[str | None, str | None]]:
    """Each job's state and wire spec (the spec only while the job is active), in order."""
    pipe = client.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.hmget(keys.job(job_id), ["state", "spec"])
    return [(state, spec) for state, spec in pipe.execute()]


def on_host(client: redis.Redis, host: str) -> list[str]:
    """The jobs claimed on `host` and not yet finished there (sorted): what adoption
    looks at after a worker dies."""
    return sorted(str(job_id) for job_id in client.smembers(keys.host_jobs(host)))


def running_on(client: redis.Redis, hosts: list[str]) -> dict[str, int]:
    """How many jobs each of `hosts` runs now (claimed there, not yet finished there)."""
    pipe = client.pipeline(transaction=False)
    for host in hosts:
        pipe.scard(keys.host_jobs(host))
    return {host: int(n) for host, n in zip(hosts, pipe.execute(), strict=True)}


def forget_on_host(client: redis.Redis, host: str, job_id: str) -> None:
    """Drop a job from `on_host` (it finished, or its record expired)."""
    client.srem(keys.host_jobs(host), job_id)


def note_requeued(client: redis.Redis, job_id: str, queue: str, retention: int) -> None:
    """The job's message was sent again: count it, keep the record a retention from now
    (one that expired meanwhile is not left without a TTL by the count), and watch the
    message again from now on (`mark_sent`)."""
    pipe = client.pipeline(transaction=False)
    pipe.hincrby(keys.job(job_id), "requeued", 1)  # for the operator (and the tests)
    pipe.expire(keys.job(job_id), retention)
    pipe.zadd(keys.queued_jobs(queue), {job_id: time.time()})
    pipe.execute()


def result_of(fields: dict[str, str]) -> JobResult | None:
    raw = fields.get("result")
    return JobResult.model_validate_json(raw) if raw else None


def outcome_of(fields: dict[str, str]) -> JobResult | None:
    raw = fields.get("outcome")
    return JobResult.model_validate_json(raw) if raw else None


def record_outcome(
    client: redis.Redis, job_id: str, result: JobResult, lease_token: str
) -> JobResult | None:
    """Keep how the job ended before its cleanup; the first outcome recorded counts.

    Only the holder of the job's lease records (`lease_token`): None when it is
    another worker's now (that worker adopted the job, and reports it).
    """
    stored = _RECORD_OUTCOME(
        client, [keys.job_lease(job_id), keys.job(job_id)], [lease_token, result.model_dump_json()]
    )
    return JobResult.model_validate_json(stored) if stored else None


def claim(
    client: redis.Redis,
    job_id: str,
    host: str,
    retention: int,
    *,
    lease_token: str,
    lease_ttl_ms: int,
    redelivered: bool = False,
) -> Claim:
    """A worker takes the job's lease (`lease_token`, for `lease_ttl_ms`) and the job, in
    one step: ``run`` it (or adopt it), or it is already ``finished``; ``taken`` when
    another worker holds the lease (nothing is done: that one acts on the job).

    A job canceled while queued is finished here as canceled: it never starts. A job
    with no record at all is new when its message is (sent by a producer other than
    `submit`), but ``gone`` when the broker redelivers it: every job a worker ever
    took has a record, so that message belongs to a job that finished and whose record
    expired (kombu restores an unacknowledged message after its visibility timeout,
    which can be long after the result), and running it would run the job twice.

    A running job stays on the host that first claimed it: a message of the shared
    queue that comes back after its visibility timeout, to a worker of another host,
    is ``elsewhere`` (the job's own host adopts it if its worker died).
    """
    # A job canceled in the queue ends here, with this result.
    canceled = _canceled_result(job_id, host)
    args = [host, lease_token, retention, now_iso(), "1" if redelivered else "0", *_QUEUED_SETS]
    args += [lease_ttl_ms, *_end_args(job_id, canceled, retention, claimed=True)]
    answer: Any = _CLAIM(client, [*_end_keys(job_id, canceled), keys.job_lease(job_id)], args)
    return cast(Claim, text(answer))


def request_cancel(client: redis.Redis, job_id: str, retention: int) -> State | None:
    """Cancel a job: a queued one is finished as canceled at once, a running one is
    flagged for its worker to stop. Returns the state seen (None: no such job)."""
    key = keys.job(job_id)
    while True:
        state, target = (text(v) for v in client.hmget(key, ["state", "target"]))
        if state not in ("queued", "running"):
            return "finished" if state == "finished" else None
        # Read first: the canceled result names the target (the script checks it is the same).
        canceled = _canceled_result(job_id, target)
        answer: Any = _CANCEL(
            client,
            _end_keys(job_id, canceled),
            [target, *_QUEUED_SETS, *_end_args(job_id, canceled, retention, claimed=False)],
        )
        seen = text(answer)
        if seen != "again":
            return cast(State, seen) if seen else None


def finish(
    client: redis.Redis,
    job_id: str,
    result: JobResult,
    retention: int,
    *,
    lease_token: str = "",
) -> JobResult:
    """Store the result unless one is stored already; returns the one that counts.

    With the `lease_token` of the job's lease, the lease is let go in the same step (if
    that token still holds it): the job is over, and its holder is done with it.
    """
    stored: Any = _FINISH(
        client,
        [*_end_keys(job_id, result), keys.job_lease(job_id)],
        [lease_token, *_end_args(job_id, result, retention, claimed=True)],
    )
    return JobResult.model_validate_json(stored) if stored else result


def _end_keys(job_id: str, result: JobResult) -> list[str]:
    """The keys of `lua/job_end.lua`: what ending the job with `result` writes."""
    return [
        keys.job(job_id),
        keys.job_log(job_id),
        keys.JOB_METRICS_HOSTS,
        keys.job_metrics(result.host),
        keys.host_jobs(result.host),
    ]


def _end_args(job_id: str, result: JobResult, retention: int, *, claimed: bool) -> list[Any]:
    """The arguments of `lua/job_end.lua`; `claimed`: the job leaves the running jobs of
    its result's host (not so a job canceled in the queue by its client)."""
    return [
        result.model_dump_json(),
        now_iso(),
        retention,
        END_FIELD,
        job_id,
        "1" if claimed else "",
        *job_metrics.end_args(result),
    ]


def _canceled_result(job_id: str, host: str) -> JobResult:
    return JobResult(
        job_id=job_id, host=host, status="canceled", error="canceled before it started"
    )
