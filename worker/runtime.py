"""Per-process state of a worker: settings, the Docker client and the Redis client.

Made lazily on first use and dropped in a forked child (`worker_process_init`),
so that no process ever shares a socket with its parent (STYLE 9).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property

from dockfleet.redis_client import connect
from dockfleet.settings import Settings
from dockfleet.store.redis_types import Client
from worker.engine import system
from worker.engine.client import EngineClient, make_client

#: how long a process trusts what `docker info` said of its engine
ENGINE_FACTS_SECONDS = 30.0


@dataclass
class Runtime:
    settings: Settings
    pid: int = field(default_factory=os.getpid)
    _engine_facts: tuple[float, system.EngineFacts | None] = (0.0, None)

    @property
    def host(self) -> str:
        return self.settings.host_name

    @cached_property
    def docker(self) -> EngineClient:
        return make_client(self.settings)

    @cached_property
    def redis(self) -> Client:
        return connect(self.settings)

    @cached_property
    def redis_bytes(self) -> Client:
        """The same Redis, answering bytes: for binary values (uploaded build contexts)."""
        return connect(self.settings, text=False)

    @property
    def engine_facts(self) -> system.EngineFacts:
        """The engine's CPUs and user remapping, read again after `ENGINE_FACTS_SECONDS`
        (an engine restarted with another configuration must not keep its old facts)."""
        read_at, facts = self._engine_facts
        if facts is None or time.monotonic() - read_at > ENGINE_FACTS_SECONDS:
            facts = system.facts(self.docker)
            self._engine_facts = (time.monotonic(), facts)
        return facts

    @property
    def host_cpus(self) -> int:
        return self.engine_facts.cpus


_lock = threading.Lock()
_current: Runtime | None = None


def configure(settings: Settings) -> None:
    """Set the settings this process serves (the app does it at import)."""
    global _current
    with _lock:
        _current = Runtime(settings)


def runtime() -> Runtime:
    """This process's runtime; a copy inherited across fork is replaced."""
    global _current
    with _lock:
        if _current is None:
            _current = Runtime(Settings())
        elif _current.pid != os.getpid():
            _current = Runtime(_current.settings)
        return _current


def reset_after_fork() -> None:
    """Forget clients inherited from the parent process."""
    global _current
    with _lock:
        if _current is not None:
            _current = Runtime(_current.settings)
