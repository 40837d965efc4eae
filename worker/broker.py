"""The Redis broker transport, hardened against messages that are not messages.

Kombu's Redis channel decodes what BRPOP returns without a guard, so a single
undecodable item pushed onto a queue (by a bug, a stray script, an attacker
with Redis access) raises out of the event loop and stops the whole worker.
This channel logs such an item and drops it; the worker keeps serving.

Also here: the keys where this transport keeps delivered, unacknowledged
messages (the requeue sweep looks there for stranded jobs).
"""

from __future__ import annotations

import logging
from typing import Any

from kombu.transport import redis as kombu_redis

log = logging.getLogger(__name__)

#: what a malformed item raises while being decoded or handed to the consumer
MALFORMED = (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError)
#: kombu's Redis transport defaults (the fleet does not change them)
UNACKED_KEY = "unacked"
UNACKED_INDEX_KEY = "unacked_index"


class Channel(kombu_redis.Channel):
    def _brpop_read(self, **options: Any) -> bool:
        try:
            return bool(super()._brpop_read(**options))  # type: ignore[misc]
        except MALFORMED as exc:
            # The item is already off the queue: nothing is lost but the garbage.
            log.error("dropped a malformed message from the broker: %r", exc)
            return True


class Transport(kombu_redis.Transport):
    Channel = Channel
