"""``dockfleet up`` and ``dockfleet down``: a whole local fleet for one machine.

``up`` runs Redis (unless one is configured and answers), a worker bound to
the local Docker engine, beat and Flower as its child processes, and stops
them all on Ctrl-C. ``up --detach`` runs the same supervisor in the
background and returns once everything is healthy; ``down`` (from any shell)
stops it. While a fleet is up, its Redis URL is in the state folder's ``env``
file, which every dockfleet command and `Settings` read when
``DOCKFLEET_REDIS_URL`` is not set.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import click

from dockfleet.cli.main import Context, cli
from dockfleet.cli.output import fail
from dockfleet.client.transport import safe_url
from dockfleet.settings import Settings
from dockfleet.up import UpError
from dockfleet.up.redis_plan import free_port, plan_redis, port_free
from dockfleet.up.state import FleetRecord, StateDir, is_running
from dockfleet.up.supervisor import STOP_GRACE, Options, Supervisor, stop_recorded

DETACH_TIMEOUT = 180.0
DEFAULT_FLOWER_PORT = 5555

UP_EPILOG = """\b
Examples:
  dockfleet up                 # foreground; Ctrl-C stops everything
  dockfleet up -d && dockfleet run busybox:local -- echo hello && dockfleet down
State (Redis data, logs, credentials): $DOCKFLEET_STATE_DIR, default
~/.local/state/dockfleet. Other shells find the fleet through its env file there."""


@cli.command(epilog=UP_EPILOG)
@click.option("--detach", "-d", is_flag=True, help="Run in the background; return when healthy.")
@click.option("--host-name", help="Name of the local Docker host (default: this machine's name).")
@click.option(
    "--flower-port", type=int, help=f"Flower's port (default {DEFAULT_FLOWER_PORT}, or a free one)."
)
@click.option(
    "--flower-address", default="127.0.0.1", show_default=True, help="Address Flower binds."
)
@click.option("--no-flower", is_flag=True, help="Do not start Flower.")
@click.option("--no-beat", is_flag=True, help="Do not start beat (no periodic maintenance).")
@click.pass_obj
def up(
    state: Context,
    detach: bool,
    host_name: str | None,
    flower_port: int | None,
    flower_address: str,
    no_flower: bool,
    no_beat: bool,
) -> None:
    """Start a local fleet: Redis, a worker for the local engine, beat and Flower."""
    folder = StateDir(state.settings.state_dir).ensure()
    running = _running(folder)
    if running is not None:
        click.echo(f"dockfleet: a fleet is already up (pid {running.supervisor_pid})", err=True)
        _summary(running, folder, detached=True)
        sys.exit(0 if detach else 1)
    folder.clear()  # what a supervisor killed outright left behind
    # Read the settings again: the env file of a dead fleet must not count as configured.
    settings = state.read_settings()
    port = _flower_port(flower_port, no_flower)
    if detach:
        _detach(state, folder, settings, host_name, port, flower_address, no_flower, no_beat)
        return
    configured = settings.redis_url if "redis_url" in settings.model_fields_set else None
    try:
        plan = plan_redis(configured, folder)
    except UpError as exc:
        fail(str(exc))
    options = Options(
        host_name=host_name or settings.host_name,
        docker_host=settings.docker_host,
        flower_address=flower_address,
        flower_port=port,
        flower=not no_flower,
        beat=not no_beat,
    )
    supervisor = Supervisor(folder, plan, options, say=_say)

    def request_stop(signum: int, _: Any) -> None:
        if not supervisor.stopping.is_set():
            _say(f"{signal.Signals(signum).name}: stopping the fleet")
        supervisor.stopping.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, request_stop)
    died = None
    try:
        record = supervisor.start()
        _summary(record, folder, detached=False)
        died = supervisor.watch()
    except UpError as exc:
        if not supervisor.stopping.is_set():
            supervisor.stop()
            fail(str(exc))
    finally:
        supervisor.stop()
    if died is not None:
        tail = died.log_tail()
        fail(
            f"{died.name} kept exiting on its own (or did not come back); the fleet was "
            f"stopped. Its log ends:\n{tail}"
        )
    _say("stopped")


@cli.command()
@click.option("--purge", is_flag=True, help="Also delete Redis data, credentials and logs.")
@click.option(
    "--timeout", default=60.0, show_default=True, help="Seconds to wait for a clean stop."
)
@click.pass_obj
def down(state: Context, purge: bool, timeout: float) -> None:
    """Stop the fleet `dockfleet up` started (from any shell)."""
    folder = StateDir(state.settings.state_dir)
    record = folder.read()
    if record is None:
        click.echo(f"dockfleet: no fleet is up (state folder {folder.root})", err=True)
    else:
        if is_running(record.supervisor_pid, record.supervisor_started):
            os.kill(record.supervisor_pid, signal.SIGTERM)  # it stops its children in order
            if not _wait_gone(record.supervisor_pid, record.supervisor_started, timeout):
                os.kill(record.supervisor_pid, signal.SIGKILL)
        # A supervisor that was killed outright: its children, checked against pid reuse.
        for child in reversed(record.processes):
            stop_recorded(child, STOP_GRACE.get(child.name, 10.0))
        folder.clear()
        names = ", ".join(p.name for p in reversed(record.processes)) or "nothing"
        click.echo(f"dockfleet: stopped {names}")
    if purge:
        folder.purge()
        click.echo(f"dockfleet: removed {folder.root}")


def _running(folder: StateDir) -> FleetRecord | None:
    record = folder.read()
    if record is not None and is_running(record.supervisor_pid, record.supervisor_started):
        return record
    if record is not None:
        for child in record.processes:
            stop_recorded(child, 5.0)
    return None


def _flower_port(asked: int | None, no_flower: bool) -> int:
    if no_flower:
        return 0
    if asked is not None:
        if not port_free(asked):
            fail(f"--flower-port: port {asked} is in use")
        return asked
    return DEFAULT_FLOWER_PORT if port_free(DEFAULT_FLOWER_PORT) else free_port()


def _detach(
    state: Context,
    folder: StateDir,
    settings: Settings,
    host_name: str | None,
    flower_port: int,
    flower_address: str,
    no_flower: bool,
    no_beat: bool,
) -> None:
    """Run ``dockfleet up`` in the background; return once it reports healthy."""
    args = [sys.executable, "-m", "dockfleet"]
    if state.redis_url_option:
        args += ["--redis-url", state.redis_url_option]
    args += ["up", "--flower-address", flower_address]
    args += ["--host-name", host_name or settings.host_name]
    args += ["--no-flower"] if no_flower else ["--flower-port", str(flower_port)]
    args += ["--no-beat"] if no_beat else []
    log = folder.log("up")
    env = {**os.environ, "DOCKFLEET_STATE_DIR": str(folder.root)}
    with open(log, "ab") as out:
        child = subprocess.Popen(
            args,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + DETACH_TIMEOUT
    while time.monotonic() < deadline:
        record = folder.read()
        if record is not None and record.supervisor_pid == child.pid and record.status == "up":
            _summary(record, folder, detached=True)
            return
        if child.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            fail(f"the fleet did not start; {log} ends:\n{tail}")
        time.sleep(0.2)
    child.terminate()
    fail(f"the fleet was not healthy after {DETACH_TIMEOUT:g}s; see {log}")


def _wait_gone(pid: int, started: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_running(pid, started):
            return True
        time.sleep(0.1)
    return False


def _say(message: str) -> None:
    click.echo(f"dockfleet: {message}", err=True)


def _summary(record: FleetRecord, folder: StateDir, *, detached: bool) -> None:
    origin = "started by up, data in " + str(folder.redis_dir) if record.redis_started else "reused"
    lines = [
        f"dockfleet is up: Docker host '{record.host_name}'",
        f"  Redis    {safe_url(record.redis_url)}  ({origin})",
    ]
    if record.flower_url:
        user, password = folder.flower_credentials()
        lines.append(f"  Flower   {record.flower_url}  user {user}  password {password}")
    if not record.engine_ok:
        lines.append(
            f"  warning: the Docker engine at {record.docker_host} does not answer; "
            "jobs wait until it does (`dockfleet hosts` shows it down)"
        )
    lines += [
        f"  logs     {folder.logs}",
        f"Every dockfleet command of this user now uses this fleet ({folder.env_path}).",
        "Try: dockfleet hosts; dockfleet run busybox:local -- echo hello",
        "Stop it with: dockfleet down" if detached else "Stop it with Ctrl-C or `dockfleet down`.",
    ]
    click.echo("\n".join(lines))
