"""`LockedScheduler`: Celery beat that schedules only while it leads, so a second beat is harmless.

Beat keeps its schedule in memory (rebuilt from `Settings` at start; a missed
maintenance tick is simply the next one). Leadership is one Redis key holding
the leader's identity with a short TTL, renewed on every tick: a second beat
sees the key, sends nothing, and takes over within ``LEADER_TTL_SECONDS`` of
the leader's death. Dispatch drops duplicated ticks as well (see `dispatch`).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from typing import Any

from celery.beat import Scheduler

from dockfleet.store import beat_leader
from dockfleet.store.redis_types import StoreError
from worker.runtime import runtime

log = logging.getLogger(__name__)

#: a leader that stops renewing loses the lead after this long
LEADER_TTL_SECONDS = 10.0
#: the leader renews at least this often; a follower retries this often
RENEW_SECONDS = 2.0


class LockedScheduler(Scheduler):
    """An in-memory beat scheduler that sends due tasks only while it holds the lead."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.identity = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.leading = False
        self._redis = runtime().redis

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self.hold():
            if self.leading:
                log.warning("beat %s lost the lead; scheduling nothing", self.identity)
            self.leading = False
            return RENEW_SECONDS
        if not self.leading:
            log.info("beat %s leads: scheduling", self.identity)
            self.leading = True
        return min(float(super().tick(*args, **kwargs)), RENEW_SECONDS)

    def hold(self) -> bool:
        """Take or renew the lead; False when another beat has it (or Redis is away)."""
        try:
            return beat_leader.hold(self._redis, self.identity, LEADER_TTL_SECONDS)
        except StoreError as exc:
            log.warning("beat cannot reach Redis for the lead: %s", exc)
            return False

    def close(self) -> None:
        try:
            beat_leader.step_down(self._redis, self.identity)
        except StoreError:
            pass  # the key expires by itself
        finally:
            self._redis.close()
            super().close()
