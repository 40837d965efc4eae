"""The lease: the exclusive right to act on one job, held in Redis while its worker lives.

Held with a token and a short TTL, renewed every third of the TTL (`worker.process.keeper`),
released only by its owner. A worker that dies (or is paused, or loses Redis for
longer than the TTL) stops renewing; the lease lapses and another worker of the
job's host may adopt the job. Each renewal also keeps the job's record alive (its
TTL, `dockfleet.store.job_records`) while the job runs.

The lease is also the fence of every write that decides something about the job
(its log lines, its outcome) and of its cleanup: those check, atomically in
Redis, that the token is still ours. And a lapsed lease is retaken only if no
other worker held it since (``leased_by`` in the job's record): a worker paused
across an adoption wakes up to find it has lost the job, not to act on it again.
"""

from __future__ import annotations

import logging
import time
import uuid
from types import TracebackType

from dockfleet.models.jobs import JobResult
from dockfleet.store import job_leases, job_records
from dockfleet.store.redis_types import Client, StoreError
from worker.process.keeper import Keeper

log = logging.getLogger(__name__)
TTL_SECONDS = 15
#: A lease taken or renewed this recently is ours without asking Redis: nobody may take
#: it before its TTL (many times this) runs out. A process paused in between finds the
#: time passed (the clock is monotonic) and asks.
FRESH_SECONDS = 1.0


class Lease:
    def __init__(
        self, client: Client, job_id: str, holder: str, host: str, ttl: int, record_ttl: int
    ) -> None:
        """`holder` names the worker; `record_ttl`: the TTL the job's record gets again at
        each renewal (its retention)."""
        self.client = client
        self.job_id = job_id
        self.record_ttl = record_ttl
        self.host = host
        self.token = f"{holder}/{uuid.uuid4().hex[:8]}"
        self.ttl = ttl
        self._keeper = Keeper(f"the lease of job {job_id}", ttl, self._renew)
        self.lost = self._keeper.lost
        # when the last take or renewal that held was sent (monotonic seconds)
        self._held_since = float("-inf")
        # the job's finish let the lease go already (`finish`): nothing to release on exit
        self._let_go = False

    def claim(self, *, redelivered: bool) -> job_records.Claim:
        """Take the lease with the job's claim, one round trip for both
        (`job_records.claim`, which says what each answer means). This first take may
        follow any earlier holder: that is an adoption."""
        sent = time.monotonic()
        claim = job_records.claim(
            self.client,
            self.job_id,
            self.host,
            self.record_ttl,
            lease_token=self.token,
            lease_ttl_ms=self.ttl * 1000,
            redelivered=redelivered,
        )
        self._took(sent, held=claim not in ("taken", "elsewhere"))
        return claim

    def acquire(self) -> bool:
        """Take the lease again, or keep it if it is ours already (safe to repeat): a
        retake follows only ourselves (nobody held it since we last did)."""
        sent = time.monotonic()
        answer = job_leases.take(
            self.client, self.job_id, self.token, self.ttl * 1000, self.host, retake=True
        )
        self._took(sent, held=answer == "held")
        return answer == "held"

    def _took(self, sent: float, *, held: bool) -> None:
        """A take sent at `sent` (monotonic) answered; the lease is ours if `held`."""
        if held:
            self.lost.clear()
            self._held_since = sent

    def fresh(self) -> bool:
        """True if the lease was taken or renewed under `FRESH_SECONDS` ago and not lost
        since: it is ours, and confirming it would be a round trip for nothing."""
        return not self.lost.is_set() and time.monotonic() - self._held_since < FRESH_SECONDS

    def __enter__(self) -> Lease:
        self._keeper.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._keeper.stop()
        if not self._let_go:
            self.release()

    def finish(self, result: JobResult) -> JobResult:
        """Store the job's result and let the lease go, in one step (`job_records.finish`:
        the first result counts, and is returned). Renewals stop first: one after the
        release would find the lease gone, and call it lost."""
        self._keeper.stop()
        reported = job_records.finish(
            self.client, self.job_id, result, self.record_ttl, lease_token=self.token
        )
        self._let_go = True
        return reported

    def release(self) -> None:
        try:
            job_leases.release(self.client, self.job_id, self.token)
        except StoreError:  # it lapses by itself within the TTL
            log.warning("could not release the lease of job %s", self.job_id, exc_info=True)

    def _renew(self) -> bool:
        sent = time.monotonic()
        held = job_leases.renew(
            self.client, self.job_id, self.token, self.ttl * 1000, self.record_ttl
        )
        if held:
            self._held_since = sent
        return held


class LeaseLost(Exception):
    """Another worker holds the job now: stop acting, it reports."""
