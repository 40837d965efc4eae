"""The supervisor behind `dockfleet up`: Redis, a worker, beat and Flower as child processes.

Children start in order, each waited for until healthy (Redis answers PING,
the worker's heartbeat lists it, beat runs, Flower answers /healthcheck), and
stop in reverse order, Redis last so the worker can withdraw from it. They
never outlive the supervisor: each child is in its own session (a Ctrl-C
reaches only the supervisor, which stops them in order) and asks the kernel
for SIGTERM should the supervisor die without stopping them (PR_SET_PDEATHSIG).
If a child dies on its own, the whole fleet is stopped and the log tail shown:
a half-running fleet is worse than none.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

from dockfleet import keys
from dockfleet.up import UpError
from dockfleet.up.redis_plan import RedisPlan
from dockfleet.up.state import FleetRecord, ProcessRecord, StateDir, process_start_time

#: seconds each child may take to become healthy
READY_TIMEOUT = {"redis": 20.0, "worker": 90.0, "beat": 30.0, "flower": 60.0}
#: seconds a child may take to stop after SIGTERM before the harder signal
STOP_GRACE = {"flower": 5.0, "beat": 5.0, "worker": 15.0, "redis": 10.0}
_PR_SET_PDEATHSIG = 1


@dataclass
class Child:
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
    host_name: str
    docker_host: str = ""
    flower_address: str = "127.0.0.1"
    flower_port: int = 5555
    flower: bool = True
    beat: bool = True
    log_level: str = "INFO"
    extra_env: dict[str, str] = field(default_factory=dict)


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Supervisor:
    def __init__(
        self,
        state: StateDir,
        redis_plan: RedisPlan,
        options: Options,
        say: Callable[[str], None],
    ) -> None:
        self.state = state
        self.redis_plan = redis_plan
        self.options = options
        self.say = say
        self.stopping = threading.Event()
        self.children: list[Child] = []
        self.worker_name = f"{options.host_name}@{socket.gethostname()}"
        me = os.getpid()
        self.record = FleetRecord(
            supervisor_pid=me,
            supervisor_started=process_start_time(me) or 0,
            host_name=options.host_name,
            redis_url=redis_plan.url,
            redis_started=redis_plan.start,
            docker_host=options.docker_host,
        )

    # -- start ------------------------------------------------------------------------

    def start(self) -> FleetRecord:
        """Start every child and wait until each is healthy; the fleet's record."""
        self.state.write(self.record)
        if self.redis_plan.start:
            self._launch(self._redis_child())
        self.state.write_env(self.redis_plan.url)
        self._launch(self._worker_child())
        if self.options.beat:
            self._launch(self._celery_child("beat", ["-s", str(self.state.beat_dir / "schedule")]))
        if self.options.flower:
            self._launch(self._flower_child())
            self.record.flower_url = f"http://{self._flower_host()}:{self.options.flower_port}"
        self.record.status = "up"
        self.state.write(self.record)
        return self.record

    def _launch(self, child: Child) -> None:
        if self.stopping.is_set():
            raise UpError("stopped while starting")
        self.say(f"starting {child.name} (log: {child.log})")
        with open(child.log, "ab") as log:
            child.process = subprocess.Popen(
                child.args,
                env=child.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 (no threads run yet in the child)
            )
        self.children.append(child)
        pid = child.process.pid
        self.record.processes.append(
            ProcessRecord(
                name=child.name,
                pid=pid,
                started=process_start_time(pid) or 0,
                log=str(child.log),
                port=child.port,
            )
        )
        self.state.write(self.record)
        self._wait_ready(child)

    def _wait_ready(self, child: Child) -> None:
        deadline = time.monotonic() + READY_TIMEOUT[child.name]
        while time.monotonic() < deadline:
            if not child.alive():
                raise UpError(
                    f"{child.name} exited while starting; its log ends:\n{child.log_tail()}"
                )
            try:
                if child.ready():
                    return
            except Exception:  # not answering yet
                pass
            if self.stopping.wait(0.2):
                raise UpError("stopped while starting")
        raise UpError(
            f"{child.name} was not ready after {READY_TIMEOUT[child.name]:g}s; "
            f"its log ends:\n{child.log_tail()}"
        )

    # -- the children -----------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        env = {**os.environ, **self.options.extra_env}
        env.update(
            DOCKFLEET_REDIS_URL=self.redis_plan.url,
            DOCKFLEET_HOST_NAME=self.options.host_name,
            DOCKFLEET_STATE_DIR=str(self.state.root),
            PYTHONUNBUFFERED="1",
        )
        return env

    def _redis_child(self) -> Child:
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
            client = redis.Redis.from_url(plan.url, socket_connect_timeout=1)
            try:
                return bool(client.ping())
            finally:
                client.close()

        return Child("redis", [binary, str(conf)], self._env(), self.state.log("redis"), ready)

    def _celery_child(self, name: str, args: list[str]) -> Child:
        command = [sys.executable, "-m", "celery", "-A", "worker.app", name]
        command += ["--loglevel", self.options.log_level, *args]
        log = self.state.log(name)
        since = log.stat().st_size if log.exists() else 0

        def started() -> bool:  # beat: its banner line is in this run's part of the log
            with open(log, "rb") as text:
                text.seek(since)
                return b"beat: Starting" in text.read()

        return Child(name, command, self._env(), log, started)

    def _worker_child(self) -> Child:
        name = self.worker_name
        child = self._celery_child("worker", ["-n", name, "--without-mingle", "--without-gossip"])
        host_key = keys.host(self.options.host_name)

        def registered() -> bool:
            client = redis.Redis.from_url(self.redis_plan.url, socket_connect_timeout=1)
            try:
                if not client.hexists(host_key, f"worker:{name}"):
                    return False
                # Up, but is its engine? Say so now rather than when a job fails.
                self.record.engine_ok = client.hget(host_key, "engine_ok") != b"0"
                return True
            finally:
                client.close()

        child.ready = registered
        return child

    def _flower_host(self) -> str:
        address = self.options.flower_address
        return "127.0.0.1" if address in ("0.0.0.0", "") else address

    def _flower_child(self) -> Child:
        user, password = self.state.flower_credentials()
        port = self.options.flower_port
        args = [f"--address={self.options.flower_address}", f"--port={port}"]
        child = self._celery_child("flower", args)
        # In the environment, not the command line: `ps` would show it to every user.
        child.env["FLOWER_BASIC_AUTH"] = f"{user}:{password}"
        child.env.pop("FLOWER_UNAUTHENTICATED_API", None)
        child.port = port
        url = f"http://{self._flower_host()}:{port}/healthcheck"

        def answers() -> bool:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200)

        child.ready = answers
        return child

    # -- run and stop -------------------------------------------------------------------

    def watch(self) -> Child | None:
        """Block until asked to stop (None) or until a child dies on its own (that child)."""
        while not self.stopping.wait(0.5):
            for child in self.children:
                if not child.alive():
                    return child
        return None

    def stop(self) -> None:
        """Stop the children in reverse order of start; forget the running fleet."""
        self.stopping.set()
        self.record.status = "stopping"
        if self.state.record_path.exists():
            self.state.write(self.record)
        for child in reversed(self.children):
            if child.alive():
                self.say(f"stopping {child.name}")
            stop_process(child.process, STOP_GRACE[child.name])
        self.state.clear()


def stop_process(process: subprocess.Popen[bytes] | None, grace: float) -> None:
    """SIGTERM, then SIGQUIT (Celery's cold shutdown), then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 10.0)):
        try:
            process.send_signal(sig)
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def stop_recorded(record: ProcessRecord, grace: float) -> None:
    """Stop a child recorded by a supervisor that is gone (its pid, checked against reuse)."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        if process_start_time(record.pid) != record.started:
            return
        os.kill(record.pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if process_start_time(record.pid) != record.started:
                return
            time.sleep(0.1)
