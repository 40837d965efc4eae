"""The state folder of `dockfleet up`: what runs, where its logs are, and its secrets.

Layout (the folder is ``Settings.state_dir``, mode 0700)::

    fleet.json          the running fleet: supervisor and child pids, ports, URLs
    env                 DOCKFLEET_REDIS_URL=... read by `Settings` in every shell
    flower-credentials  user:password of Flower's basic auth (made once, 0600)
    redis/              redis.conf (with its generated password, 0600) and the AOF files
    beat/               beat's schedule file
    logs/               one log per process: up, redis, worker, beat, flower

``fleet.json`` and ``env`` exist only while a fleet is up; the data, the
credentials and the logs stay for the next ``up`` (``down --purge`` removes them).
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from pydantic import BaseModel, Field

from dockfleet.settings import FLEET_ENV_FILE

FLOWER_USER = "dockfleet"


class ProcessRecord(BaseModel):
    """One child process as `down` finds it from another shell."""

    name: str
    pid: int
    #: /proc start time, so a recycled pid is never mistaken for ours
    started: int
    log: str
    port: int | None = None


class FleetRecord(BaseModel):
    """What ``fleet.json`` holds while a fleet is up."""

    supervisor_pid: int
    supervisor_started: int
    status: str = "starting"  # starting | up | stopping
    host_name: str
    redis_url: str
    redis_started: bool
    flower_url: str | None = None
    docker_host: str = ""
    #: whether the worker's first heartbeat found the Docker engine answering
    engine_ok: bool = True
    processes: list[ProcessRecord] = Field(default_factory=list)


class StateDir:
    """Paths and files of one state folder."""

    def __init__(self, root: Path) -> None:
        self.root = root.expanduser()
        self.record_path = self.root / "fleet.json"
        self.env_path = self.root / FLEET_ENV_FILE
        self.flower_credentials_path = self.root / "flower-credentials"
        self.redis_dir = self.root / "redis"
        self.beat_dir = self.root / "beat"
        self.logs = self.root / "logs"

    def ensure(self) -> StateDir:
        for folder in (self.root, self.redis_dir, self.beat_dir, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
            os.chmod(folder, 0o700)  # it holds passwords: the owner only
        return self

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    # -- the running fleet ----------------------------------------------------

    def read(self) -> FleetRecord | None:
        try:
            return FleetRecord.model_validate_json(self.record_path.read_text())
        except (OSError, ValueError):
            return None

    def write(self, record: FleetRecord) -> None:
        _write_private(self.record_path, record.model_dump_json(indent=2))

    def write_env(self, redis_url: str) -> None:
        _write_private(
            self.env_path,
            "# written by `dockfleet up`, removed by `dockfleet down`\n"
            f"DOCKFLEET_REDIS_URL={redis_url}\n",
        )

    def clear(self) -> None:
        """Forget the running fleet (its data, credentials and logs stay)."""
        for path in (self.env_path, self.record_path):
            path.unlink(missing_ok=True)

    def purge(self) -> None:
        """Remove what `up` made here: Redis data, credentials, logs; then the folder if
        that emptied it. Nothing else is touched, wherever DOCKFLEET_STATE_DIR points."""
        for path in (self.record_path, self.env_path, self.flower_credentials_path):
            path.unlink(missing_ok=True)
        for folder in (self.redis_dir, self.beat_dir, self.logs):
            shutil.rmtree(folder, ignore_errors=True)
        try:
            self.root.rmdir()
        except OSError:
            pass  # it holds something `up` did not make: left as it is

    # -- secrets, made once and kept ---------------------------------------------

    def flower_credentials(self) -> tuple[str, str]:
        return FLOWER_USER, self._secret(self.flower_credentials_path, f"{FLOWER_USER}:")

    def redis_password(self) -> str:
        return self._secret(self.redis_dir / "password", "")

    def redis_port(self, default: int) -> int:
        """The port the last local Redis used (stable URLs across ups), else `default`."""
        try:
            return int((self.redis_dir / "port").read_text())
        except (OSError, ValueError):
            return default

    def remember_redis_port(self, port: int) -> None:
        (self.redis_dir / "port").write_text(str(port))

    def _secret(self, path: Path, prefix: str) -> str:
        try:
            text = path.read_text().strip()
            if text.startswith(prefix) and len(text) > len(prefix):
                return text.removeprefix(prefix)
        except OSError:
            pass
        value = secrets.token_urlsafe(18)
        _write_private(path, prefix + value + "\n")
        return value


def _write_private(path: Path, text: str) -> None:
    """Write atomically, readable by the owner only."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)


def process_start_time(pid: int) -> int | None:
    """The kernel's start time of `pid` (clock ticks since boot), None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: fields after its closing parenthesis.
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[19]) if fields[0] != "Z" else None


def is_running(pid: int, started: int) -> bool:
    """Whether `pid` is still the process that started at `started` (not a recycled pid)."""
    return process_start_time(pid) == started
