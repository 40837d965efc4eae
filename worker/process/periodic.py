"""The one background-thread helper: call a function every so many seconds until stopped.

The heartbeat, a job's API-mode meter and a log stream's reader check each run
such a loop (held keys share one renewal thread instead: `worker.process.keeper`).
Here it is once: a daemon thread (it never holds the process open), a stop that
wakes it at once instead of at the end of its interval, and a join bounded so
that a stuck call cannot hang the caller.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

#: seconds `stop` waits for a call under way to end
STOP_WAIT = 5.0


class Periodic:
    """Calls `tick` every `interval` seconds in a daemon thread, until `stop` or until a
    tick returns False. Each tick is the caller's to guard: an exception ends the loop."""

    def __init__(
        self,
        name: str,
        interval: float,
        tick: Callable[[], object],
        *,
        immediately: bool = False,
    ) -> None:
        """`immediately`: tick once as the thread starts, then every `interval`."""
        self.interval = interval
        self._tick = tick
        self._immediately = immediately
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Periodic:
        self._thread.start()
        return self

    def stop(self, wait: float = STOP_WAIT) -> None:
        """End the loop; wait up to `wait` seconds for a tick under way (0: do not wait)."""
        self._stopped.set()
        thread = self._thread
        if wait and thread.is_alive() and thread is not threading.current_thread():
            thread.join(wait)

    def _run(self) -> None:
        if self._immediately and self._tick() is False:
            return
        while not self._stopped.wait(self.interval):
            if self._tick() is False:
                return
