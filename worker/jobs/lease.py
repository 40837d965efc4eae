"""The lease: the exclusive right to run one job, held in Redis while its worker lives.

Held with a token and a short TTL (`dockfleet.owned_key`), renewed by a thread
every third of the TTL, released only by its owner. A worker that dies stops
renewing; the lease lapses within the TTL and another worker of the host may
adopt the job. Nobody runs a job whose lease someone else holds. Each renewal
also keeps the job's record alive (its TTL, `dockfleet.jobstate`) while the job runs.
"""

from __future__ import annotations

import logging
import threading
import uuid
from types import TracebackType

import redis

from dockfleet import keys, owned_key

log = logging.getLogger(__name__)
TTL_SECONDS = 15


class Lease:
    def __init__(
        self,
        client: redis.Redis,
        job_id: str,
        holder: str,
        ttl: int = TTL_SECONDS,
        record_ttl: int | None = None,
    ):
        """`record_ttl`: the TTL the job's record gets again at each renewal (its retention)."""
        self.client = client
        self.key = keys.job_lease(job_id)
        self.record = keys.job(job_id)
        self.record_ttl = record_ttl
        self.token = f"{holder}/{uuid.uuid4().hex[:8]}"
        self.ttl = ttl
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> bool:
        """Take the lease, or keep it if it is ours already (safe to repeat)."""
        held = owned_key.take(self.client, self.key, self.token, self.ttl * 1000)
        if held:
            self.lost.clear()
        return held

    def __enter__(self) -> Lease:
        self._thread = threading.Thread(target=self._keep, name=f"lease-{self.key}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.release()

    def release(self) -> None:
        try:
            owned_key.release(self.client, self.key, self.token)
        except redis.RedisError:  # it lapses by itself within the TTL
            log.warning("could not release %s", self.key, exc_info=True)

    def _keep(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            if self.lost.is_set():
                continue  # the job retakes it (or stops) at its next check
            try:
                renewed = owned_key.renew(self.client, self.key, self.token, self.ttl * 1000)
                if renewed and self.record_ttl:
                    self.client.expire(self.record, self.record_ttl)  # never makes one
            except redis.RedisError:
                log.warning("could not renew %s; retrying", self.key, exc_info=True)
                continue
            if not renewed:
                # Lapsed (Redis was away longer than the TTL) or taken over: the job
                # retakes it if it is still free, else stops acting.
                log.error("lost the lease %s", self.key)
                self.lost.set()
