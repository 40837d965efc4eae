"""Per-process state of a worker: settings, the Docker client and the Redis client.

Made lazily on first use and dropped in a forked child (`worker_process_init`),
so that no process ever shares a socket with its parent (STYLE 9).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from functools import cached_property

import docker
import redis
from redis import Redis

from dockfleet.redis_client import connect
from dockfleet.settings import Settings
from worker.engine.client import make_client


@dataclass
class Runtime:
    settings: Settings
    pid: int = field(default_factory=os.getpid)

    @property
    def host(self) -> str:
        return self.settings.host_name

    @cached_property
    def docker(self) -> docker.DockerClient:
        return make_client(self.settings)

    @cached_property
    def redis(self) -> redis.Redis:
        return connect(self.settings)

    @cached_property
    def redis_bytes(self) -> Redis:
        """The same Redis, answering bytes: for binary values (uploaded build contexts)."""
        return connect(self.settings, text=False)

    @cached_property
    def host_cpus(self) -> int:
        return int(self.docker.api.info().get("NCPU", 0))


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
