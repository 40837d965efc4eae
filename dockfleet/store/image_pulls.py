"""Single-flight pulls: one engine pull of a reference per host at a time, and a count of
the finished ones.

The first worker process to ask for a reference takes its pull lock (an owned
key, `dockfleet.store.owned_keys`, renewed while the pull streams; it frees itself
`LOCK_SECONDS` after a holder that died); the others wait for it. A waiter
reads the count of finished pulls before it waits: if the count moved, the
pull it waited for succeeded and the image can be reused.
"""

from __future__ import annotations

import uuid

import redis

from dockfleet import keys
from dockfleet.store import owned_keys

#: the pull lock frees itself this long after its holder stopped renewing it (died, hung)
LOCK_SECONDS = 60.0
#: the counter of finished pulls only has to outlive the longest wait for one
DONE_TTL_SECONDS = 24 * 3600
#: how often a waiter looks whether the lock is free
POLL_SECONDS = 0.1


class PullTurn:
    """The right to pull `reference` on `host`: taken, renewed and released with one token."""

    def __init__(self, client: redis.Redis, host: str, reference: str) -> None:
        self.client = client
        self._lock = keys.image_pull_lock(host, reference)
        self._done = keys.image_pull_done(host, reference)
        self._token = uuid.uuid4().hex

    def finished(self) -> int:
        """How many pulls of the reference have finished on the host (ever, within a day)."""
        return int(self.client.get(self._done) or 0)

    def take(self) -> bool:
        """Take the turn if nobody holds it (or keep it, if we do); False if another does."""
        return owned_keys.take(self.client, self._lock, self._token, int(LOCK_SECONDS * 1000))

    def wait(self, seconds: float) -> bool:
        """Take the turn once its holder is done; False if it is still held after `seconds`."""
        return owned_keys.wait_to_take(self.take, seconds, max_poll=POLL_SECONDS)

    def renew(self) -> bool:
        """Keep the turn for another `LOCK_SECONDS` (retaken if it lapsed and is free);
        False if another worker took it meanwhile: both pull then, which the engine allows."""
        return self.take()

    def done(self) -> None:
        """Our pull finished: a waiter that counted before it waited may reuse the image."""
        pipe = self.client.pipeline(transaction=False)
        pipe.incr(self._done)
        pipe.expire(self._done, DONE_TTL_SECONDS)
        pipe.execute()

    def release(self) -> None:
        """Give the turn up (never another's, if ours lapsed and someone took it)."""
        owned_keys.release(self.client, self._lock, self._token)
