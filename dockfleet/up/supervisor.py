"""The supervisor behind `dockfleet up`: Redis, a worker, beat and Flower as child processes.

Children start in order, each waited for until healthy (Redis answers PING,
the worker's heartbeat lists it, beat runs, Flower answers /healthcheck), and
stop in reverse order, Redis last so the worker can withdraw from it. They
never outlive the supervisor: each child is in its own session (a Ctrl-C
reaches only the supervisor, which stops them in order) and asks the kernel
for SIGTERM should the supervisor die without stopping them (PR_SET_PDEATHSIG).
A child that dies on its own is started again (a killed worker's jobs are
adopted by its successor, a killed Redis comes back from its append-only
file); one that keeps dying (``MAX_RESTARTS`` within ``RESTART_WINDOW``) or
does not come back stops the whole fleet with its log tail shown: a fleet
that is half running for good is worse than none.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable

from dockfleet.up import UpError
from dockfleet.up.children import Child, Children, Options, die_with_parent
from dockfleet.up.redis_plan import RedisPlan
from dockfleet.up.state import FleetRecord, ProcessRecord, StateDir, process_start_time

#: seconds each child may take to become healthy
READY_TIMEOUT = {"redis": 20.0, "worker": 90.0, "beat": 30.0, "flower": 60.0}
#: seconds a child may take to stop after SIGTERM before the harder signal
STOP_GRACE = {"flower": 5.0, "beat": 5.0, "worker": 15.0, "redis": 10.0}
#: a child dying more often than this within RESTART_WINDOW seconds is not started again
MAX_RESTARTS = 3
RESTART_WINDOW = 120.0

__all__ = ["Options", "Supervisor", "stop_process", "stop_recorded"]


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
        #: how to make each child again, for a restart
        self.factories: dict[str, Callable[[], Child]] = {}
        self.make = Children(state, redis_plan, options)
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
            self._launch(self.make.redis)
        self.state.write_env(self.redis_plan.url)
        self._launch(lambda: self.make.worker(on_registered=self._engine_answered))
        if self.options.beat:
            schedule = str(self.state.beat_dir / "schedule")
            self._launch(lambda: self.make.celery("beat", ["-s", schedule]))
        if self.options.flower:
            self._launch(self.make.flower)
            self.record.flower_url = f"http://{self.make.flower_host()}:{self.options.flower_port}"
        self.record.status = "up"
        self.state.write(self.record)
        return self.record

    def _engine_answered(self, ok: bool) -> None:
        self.record.engine_ok = ok

    def _launch(self, make: Callable[[], Child]) -> None:
        child = make()
        self.factories[child.name] = make
        self.children.append(child)
        self._spawn(child)

    def _spawn(self, child: Child) -> None:
        """Start the child's process, record it, and wait until it is healthy."""
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
                preexec_fn=die_with_parent,  # runs in the child before exec
            )
        pid = child.process.pid
        self.record.processes = [p for p in self.record.processes if p.name != child.name]
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

    # -- run and stop -------------------------------------------------------------------

    def watch(self) -> Child | None:
        """Block until asked to stop (None), starting again each child that dies on its own;
        returns the child that kept dying or did not come back."""
        deaths: dict[str, list[float]] = {}
        while not self.stopping.wait(0.5):
            for index, child in enumerate(self.children):
                if child.alive():
                    continue
                now = time.monotonic()
                recent = [t for t in deaths.get(child.name, []) if now - t < RESTART_WINDOW]
                deaths[child.name] = [*recent, now]
                if len(recent) >= MAX_RESTARTS:
                    return child
                code = child.process.returncode if child.process else None
                self.say(
                    f"{child.name} exited on its own (code {code}); starting it again. "
                    f"Its log ends:\n{child.log_tail()}"
                )
                again = self.children[index] = self.factories[child.name]()
                try:
                    self._spawn(again)
                except UpError:
                    if self.stopping.is_set():
                        return None
                    return again
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
