"""The processes of `dockfleet up`: how each is started and how it is known to be healthy.

Every child gets the fleet's Redis URL and host name in its environment,
logs to its own file in the state folder, and a readiness check: Redis
answers PING, the worker's heartbeat lists it, beat's banner is in its log,
Flower answers /healthcheck.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dockfleet.celery_command import celery_command, settings_environment, worker_command
from dockfleet.redis_client import connect_url
from dockfleet.store import host_records
from dockfleet.up import UpError
from dockfleet.up.redis_plan import RedisPlan
from dockfleet.up.state import StateDir

_PR_SET_PDEATHSIG = 1


@dataclass
class Child:
    """One process of the fleet: how to start it, where it logs, how to tell it is ready."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    ready: Callable[[], bool]
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass
class Options:
    """What `dockfleet up` was asked to run."""

    host_name: str
    docker_host: str = ""
    flower_address: str = "127.0.0.1"
    flower_port: int = 5555
    flower: bool = True
    beat: bool = True
    log_level: str = "INFO"
    extra_env: dict[str, str] = field(default_factory=dict)


def die_with_parent() -> None:
    """In the child between fork and exec: SIGTERM when the supervisor dies, however."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Children:
    """Makes the children of one fleet."""

    def __init__(self, state: StateDir, redis_plan: RedisPlan, options: Options) -> None:
        self.state = state
        self.redis_plan = redis_plan
        self.options = options
        self.worker_name = f"{options.host_name}@{socket.gethostname()}"

    def env(self) -> dict[str, str]:
        env = {**os.environ, **self.options.extra_env}
        env.update(
            settings_environment(
                redis_url=self.redis_plan.url,
                host_name=self.options.host_name,
                state_dir=self.state.root,
            ),
            PYTHONUNBUFFERED="1",
        )
        return env

    def redis(self) -> Child:
        plan = self.redis_plan
        binary = shutil.which("redis-server")
        if binary is None:
            raise UpError(
                "redis-server is not installed; install it with: apt-get install redis-server "
                "(or point DOCKFLEET_REDIS_URL at a Redis you run)"
            )
        conf = self.state.redis_dir / "redis.conf"
        lines = [
            f"port {plan.port}",
            "bind 127.0.0.1",
            "protected-mode yes",
            f"dir {self.state.redis_dir}",
            # Persistence: every write is in the append-only file, synced each second.
            "appendonly yes",
            "appendfsync everysec",
            'save ""',
            "daemonize no",
            'logfile ""',
        ]
        if plan.password:
            lines.append(f"requirepass {plan.password}")
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write("\n".join(lines) + "\n")

        def ready() -> bool:
            client = connect_url(plan.url, timeout=1)
            try:
                return bool(client.ping())
            finally:
                client.close()

        return Child("redis", [binary, str(conf)], self.env(), self.state.log("redis"), ready)

    def celery(self, name: str, args: list[str]) -> Child:
        """Beat or Flower: ``celery -A worker.app NAME`` with `args`."""
        return self._logged(name, celery_command(name, "--loglevel", self.options.log_level, *args))

    def _logged(self, name: str, command: list[str]) -> Child:
        log = self.state.log(name)
        since = log.stat().st_size if log.exists() else 0

        def started() -> bool:  # beat: its banner line is in this run's part of the log
            with open(log, "rb") as text:
                text.seek(since)
                return b"beat: Starting" in text.read()

        return Child(name, command, self.env(), log, started)

    def worker(self, on_registered: Callable[[bool], None]) -> Child:
        """The worker; `on_registered` learns whether its engine answered at the first beat."""
        name = self.worker_name
        child = self._logged("worker", worker_command(name, self.options.log_level))
        # Its own heartbeat, not one left by an earlier worker of the name that was killed.
        made_at = time.time()

        def registered() -> bool:
            client = connect_url(self.redis_plan.url, timeout=1)
            try:
                beat = host_records.worker_beat(client, self.options.host_name, name)
                if beat is None or beat[0] < made_at:
                    return False
                # Up, but is its engine? Say so now rather than when a job fails.
                on_registered(beat[1])
                return True
            finally:
                client.close()

        child.ready = registered
        return child

    def flower_host(self) -> str:
        address = self.options.flower_address
        return "127.0.0.1" if address in ("0.0.0.0", "") else address

    def flower(self) -> Child:
        user, password = self.state.flower_credentials()
        port = self.options.flower_port
        args = [f"--address={self.options.flower_address}", f"--port={port}"]
        child = self.celery("flower", args)
        # In the environment, not the command line: `ps` would show it to every user.
        child.env["FLOWER_BASIC_AUTH"] = f"{user}:{password}"
        child.env.pop("FLOWER_UNAUTHENTICATED_API", None)
        child.port = port
        url = f"http://{self.flower_host()}:{port}/healthcheck"

        def answers() -> bool:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200)

        child.ready = answers
        return child
