"""The consumer watchdog: a worker that stopped taking messages is made to reconnect.

Celery's Redis consumer has, release after release, had ways to come back
from a broker outage connected but no longer polling its queues (celery
#8030, #8091, #9054, #10205; kombu #2007): the worker looks alive, its
heartbeat and control replies go on, yet its queues fill while it idles. For
a fleet that is the worst failure there is: jobs that never start, and
nothing that says so. The requeue sweep cannot help, since the messages are
exactly where they should be.

So each heartbeat the watchdog asks: do the queues this worker consumes hold
messages while it has a free slot and has received nothing? Once that has
held for `STALL_SECONDS`, it sends the consumer through Celery's own
reconnect path, by raising a connection error inside the consumer's event
loop (`Hub.call_soon` is the thread-safe way in). A reconnect loses nothing:
unacknowledged messages stay in Redis (late ack) and running tasks go on.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from celery import signals
from celery.worker import state as worker_state

from dockfleet.logconfig import event
from dockfleet.store import queue_depth
from dockfleet.store.redis_types import Client, ConnectionLost
from worker.process.kombu_check import warn_if_untested

log = logging.getLogger(__name__)
# it raises inside kombu's event loop (Hub.call_soon), a kombu internal
warn_if_untested(__name__)
#: a healthy consumer takes a waiting message within one BRPOP cycle (a second);
#: this long idle beside a waiting message is a stall
STALL_SECONDS = 20.0


class ConsumerStalled(ConnectionLost):
    """Raised in the consumer's loop: Celery treats it as a lost connection and reconnects."""


@dataclass(eq=False)
class ConsumerWatchdog:
    """Looks at each heartbeat whether the consumer stalled, and makes it reconnect if so."""

    #: Celery's worker consumer (the sender of ``worker_ready``)
    consumer: Any
    client: Client
    host: str
    stall_seconds: float = STALL_SECONDS
    _received_at: float = field(default_factory=time.monotonic, init=False)
    #: since when the queues have held messages while this worker idled (None: not so)
    _idle_since: float | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        signals.task_received.connect(self._on_received, weak=False)

    def close(self) -> None:
        signals.task_received.disconnect(self._on_received)

    def check(self) -> bool:
        """Look once (from the heartbeat thread); True if it made the consumer reconnect."""
        if _shutting_down():
            return False  # a worker stopping has stopped consuming on purpose
        now = time.monotonic()
        waiting = self._waiting()
        if not waiting or not self._has_free_slot():
            self._idle_since = None
            return False
        with self._lock:
            if self._idle_since is None or self._received_at > self._idle_since:
                self._idle_since = now  # the clock starts at the first look that sees it
                return False
            idle_for = now - self._idle_since
        if idle_for < self.stall_seconds:
            return False
        self._idle_since = None  # a further stall needs a full period again
        return self._reconnect(waiting, idle_for)

    # -- what the consumer is doing ---------------------------------------------

    def _on_received(self, sender: Any = None, **_: Any) -> None:
        with self._lock:
            self._received_at = time.monotonic()

    def _queues(self) -> list[str]:
        task_consumer = getattr(self.consumer, "task_consumer", None)
        if task_consumer is None:  # between a connection loss and the reconnect
            return []
        return [str(queue.name) for queue in task_consumer.queues]

    def _waiting(self) -> dict[str, int]:
        return {q: n for q, n in queue_depth.depths(self.client, self._queues()).items() if n}

    def _has_free_slot(self) -> bool:
        # Received and not yet done (running, or waiting for a thread, or an ETA).
        return len(worker_state.reserved_requests) < int(self.consumer.pool.num_processes)

    # -- the remedy ----------------------------------------------------------------

    def _reconnect(self, waiting: dict[str, int], idle_for: float) -> bool:
        hub = getattr(self.consumer, "hub", None)
        connection = getattr(self.consumer, "connection", None)
        summary = ", ".join(f"{q}: {n}" for q, n in sorted(waiting.items()))
        if hub is None or connection is None:
            log.error("consumer stalled (%s waiting) and cannot be made to reconnect", summary)
            return False
        event(
            log,
            "worker.consumer_stalled",
            "worker of host {host} took no message for {_idle_for:.0f}s while its queues held"
            " some ({_waiting}); reconnecting its consumer",
            _idle_for=idle_for,
            _waiting=summary,
            level=logging.WARNING,
            host=self.host,
            waiting=waiting,
        )

        def raise_in_loop() -> None:
            # Only the stalled connection: a reconnect since the look needs no other.
            if self.consumer.connection is connection and not _shutting_down():
                raise ConsumerStalled(f"no message taken for {idle_for:.0f}s ({summary} waiting)")

        hub.call_soon(raise_in_loop)
        return True


def _shutting_down() -> bool:
    # Celery sets these to an exit code (0 included) when a warm or cold shutdown begins,
    # and reads None and False alike as "running" (`celery.worker.state.maybe_shutdown`).
    flags = (worker_state.should_stop, worker_state.should_terminate)
    return any(flag is not None and flag is not False for flag in flags)
