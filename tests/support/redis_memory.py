"""Redis's memory sampled while something runs: how far above its starting point it went."""

from __future__ import annotations

import threading
import time
from types import TracebackType

import redis


class MemorySampler:
    """``with MemorySampler(url) as memory: ...`` samples ``INFO memory`` (used_memory) every
    `interval` seconds in a thread; `peak` is the most it rose above where it started."""

    def __init__(self, url: str, interval: float = 0.01) -> None:
        self.client = redis.Redis.from_url(url)
        self.interval = interval
        self.samples: list[int] = []
        self.baseline = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="redis-memory", daemon=True)

    def __enter__(self) -> MemorySampler:
        self.baseline = self._used()
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()
        self.client.close()

    @property
    def peak(self) -> int:
        """Bytes above the baseline at the highest sample."""
        return max(self.samples, default=self.baseline) - self.baseline

    def _used(self) -> int:
        return int(self.client.info("memory")["used_memory"])

    def _sample(self) -> None:
        while not self._done.is_set():
            self.samples.append(self._used())
            time.sleep(self.interval)
