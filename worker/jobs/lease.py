"""The lease: the exclusive right to run one job, held in Redis while its worker lives.

Taken with SET NX and a short TTL, renewed by a thread every third of the
TTL, released only by its owner (compare-and-delete). A worker that dies
stops renewing; the lease lapses within the TTL and another worker of the
host may adopt the job. Nobody runs a job whose lease someone else holds.
"""

from __future__ import annotations

import logging
import threading
import uuid
from types import TracebackType
from typing import Any

import redis

from dockfleet import keys

log = logging.getLogger(__name__)
TTL_SECONDS = 15

# Renew / release only while the lease is still ours.
_OURS = "if redis.call('get', KEYS[1]) == ARGV[1] then "
_RENEW = _OURS + "return redis.call('expire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = _OURS + "return redis.call('del', KEYS[1]) end return 0"


class Lease:
    def __init__(self, client: redis.Redis, job_id: str, holder: str, ttl: int = TTL_SECONDS):
        self.client = client
        self.key = keys.job_lease(job_id)
        self.token = f"{holder}/{uuid.uuid4().hex[:8]}"
        self.ttl = ttl
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> bool:
        return bool(self.client.set(self.key, self.token, nx=True, ex=self.ttl))

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
            self.client.eval(_RELEASE, 1, self.key, self.token)
        except redis.RedisError:  # it lapses by itself within the TTL
            log.warning("could not release %s", self.key, exc_info=True)

    def _keep(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                renewed: Any = self.client.eval(_RENEW, 1, self.key, self.token, self.ttl)
            except redis.RedisError:
                log.warning("could not renew %s; retrying", self.key, exc_info=True)
                continue
            if not renewed:
                log.error("lost the lease %s", self.key)
                self.lost.set()
                return
