"""The Redis broker transport, hardened where kombu's own can stop a worker for good.

- A message that is not a message: kombu's Redis channel decodes what BRPOP
  returns without a guard, so a single undecodable item pushed onto a queue
  (by a bug, a stray script, an attacker with Redis access) raises out of the
  event loop and stops the whole worker. This channel logs such an item and
  drops it; the worker keeps serving.
- A connection lost with messages delivered and not yet acknowledged (jobs
  running, late ack), kombu 5.7: Celery tears it down with `collect()`, which
  clears the transport's client, then `close()`; in two worker logs of the
  Redis-crash stress run (2 of ~50 runs, fsync slowed) that close still found
  the channel open and went on to restore those messages through a new
  connection pool built from the cleared client: ``AttributeError: 'NoneType'
  object has no attribute 'hostname'``. Not a connection error, so Celery
  logged "Unrecoverable error" and the worker's consumer was gone while the
  process lived on: every job queued for its host waited forever. An ack of a
  message from the torn-down channel reaches the same spot. Here a closed
  connection is reported as one (`redis.ConnectionError`), which kombu and
  Celery already handle: the close completes (an ack is logged as not done),
  the messages stay unacknowledged in Redis, the consumer reconnects.

The keys where this transport keeps delivered, unacknowledged messages (the
requeue sweep looks there for stranded jobs) are named in
`dockfleet.store.broker_messages`.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from kombu.transport import redis as kombu_redis

from worker.process.kombu_check import warn_if_untested

log = logging.getLogger(__name__)
warn_if_untested(__name__)

#: what a malformed item raises while being decoded or handed to the consumer
MALFORMED = (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError)


class Channel(kombu_redis.Channel):
    _sync_client: tuple[Any, Any] | None = None

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection.client is None:
            raise redis.ConnectionError("the broker connection is closed")
        return super()._connparams(asynchronous=asynchronous)  # type: ignore[misc, no-any-return]

    def _create_client(self, asynchronous: bool = False) -> Any:
        """One client object per connection pool, not one per call: kombu built a new
        `redis.Redis` (its option parsing, its table of response callbacks) for every
        message it delivered and every ack, ~1/5 of the worker's CPU per job. A client
        over a pool is safe to share between threads; a new pool (after a reconnect)
        gets a new client."""
        if asynchronous:
            return super()._create_client(asynchronous=True)  # type: ignore[misc]
        pool = self.pool
        if self._sync_client is None or self._sync_client[0] is not pool:
            self._sync_client = (pool, super()._create_client())  # type: ignore[misc]
        return self._sync_client[1]

    def _brpop_read(self, **options: Any) -> bool:
        try:
            return bool(super()._brpop_read(**options))  # type: ignore[misc]
        except MALFORMED as exc:
            # The item is already off the queue: nothing is lost but the garbage.
            log.error("dropped a malformed message from the broker: %r", exc)
            return True


class Transport(kombu_redis.Transport):
    Channel = Channel
