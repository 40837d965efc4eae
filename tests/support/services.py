"""Starts and stops the real parts the integration tests run against.

`RedisServer` is a private redis-server on a free loopback port; `DockerDaemon`
is an extra dockerd with its own socket, roots and bridge, playing a second
Docker host; `WorkerProcess` is ``celery -A worker.app worker`` bound to one host;
`BeatProcess` is ``celery -A worker.app beat``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

REPO = Path(__file__).resolve().parents[2]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(ok: bool, what: str) -> None:
    """A missing service fails the run in CI and skips the test elsewhere."""
    if ok:
        return
    if in_ci():
        pytest.fail(f"required service missing in CI: {what}", pytrace=False)
    pytest.skip(f"service missing: {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # the service is still coming up
            pass
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        require(binary is not None, "redis-server (apt-get install redis-server)")
        assert binary is not None
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        wait_for(lambda: bool(client.ping()), 10, "redis-server")
        client.close()
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)


class DockerDaemon:
    """An extra dockerd on this machine: a second Docker host for the fleet."""

    def __init__(self, tag: str, subnet_octet: int) -> None:
        self.tag = tag
        self.socket = f"/run/dft-{tag}.sock"
        self.url = f"unix://{self.socket}"
        self.data_root = f"/var/lib/dockfleet-test-{tag}"
        self.exec_root = f"/run/dft-{tag}"
        self.bridge = f"br-dft{tag}"[:15]
        self.address = f"10.213.{subnet_octet}.1/24"
        self.log_path = Path(tempfile.gettempdir()) / f"dockerd-{tag}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> DockerDaemon:
        require(shutil.which("dockerd") is not None, "dockerd (apt-get install docker.io)")
        require(os.geteuid() == 0, "root, to start a second dockerd")
        _run(["ip", "link", "add", "name", self.bridge, "type", "bridge"])
        _run(["ip", "addr", "add", self.address, "dev", self.bridge])
        _run(["ip", "link", "set", self.bridge, "up"])
        args = ["dockerd", "--host", self.url, "--data-root", self.data_root]
        args += ["--exec-root", self.exec_root, "--pidfile", f"{self.exec_root}/dockerd.pid"]
        # --iptables=false: with the default it would flush the first daemon's chains.
        args += ["--bridge", self.bridge, "--iptables=false", "--shutdown-timeout", "2"]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: self.docker(["version"]).returncode == 0, 30, f"dockerd {self.tag}")
        return self

    def docker(self, args: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["docker", "-H", self.url, *args], capture_output=True, **kwargs)  # type: ignore[call-overload, no-any-return]

    def load_image(self, image: str, source: str) -> None:
        """Copy `image` from the engine at `source` (no registry needed)."""
        save = subprocess.Popen(["docker", "-H", source, "save", image], stdout=subprocess.PIPE)
        load = subprocess.run(
            ["docker", "-H", self.url, "load", "-q"], stdin=save.stdout, capture_output=True
        )
        save.wait()
        assert load.returncode == 0, load.stderr

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        _run(["ip", "link", "delete", self.bridge], check=False)
        shutil.rmtree(self.data_root, ignore_errors=True)
        shutil.rmtree(self.exec_root, ignore_errors=True)


class WorkerProcess:
    """``celery -A worker.app worker`` serving one Docker host, as a subprocess."""

    def __init__(self, host: str, env: dict[str, str], index: int = 0) -> None:
        self.host = host
        self.name = f"{host}-{index}@localhost"
        self.env = {**os.environ, **env, "DOCKFLEET_HOST_NAME": host}
        self.log_path = Path(tempfile.gettempdir()) / f"worker-{host}-{index}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        args = [sys.executable, "-m", "celery", "-A", "worker.app", "worker", "-n", self.name]
        args += ["--loglevel", "INFO", "--without-mingle", "--without-gossip"]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                args, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def wait_ready(self, redis_url: str, timeout: float = 60) -> None:
        """Ready once its heartbeat lists it as a worker of its host."""
        client = redis.Redis.from_url(redis_url, decode_responses=True)

        def registered() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited:\n{self.log_tail()}")
            return client.hexists(f"dockfleet:host:{self.host}", f"worker:{self.name}")

        try:
            wait_for(registered, timeout, f"worker {self.name}", interval=0.2)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}\n{self.log_tail()}") from None
        finally:
            client.close()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # warm shutdown: finish what runs
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


class BeatProcess:
    """``celery -A worker.app beat`` as a subprocess, logging at INFO (what it sends)."""

    def __init__(self, env: dict[str, str], tag: str) -> None:
        self.env = {**os.environ, **env}
        self.tag = tag
        self.log_path = Path(tempfile.gettempdir()) / f"beat-{tag}.log"
        self.workdir = tempfile.mkdtemp(prefix=f"dockfleet-beat-{tag}-")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> BeatProcess:
        args = [sys.executable, "-m", "celery", "-A", "worker.app", "beat", "--loglevel", "INFO"]
        args += ["--schedule", os.path.join(self.workdir, "schedule")]
        env = {**self.env, "PYTHONPATH": str(REPO)}
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                args, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def sent(self) -> int:
        """How many due tasks this beat has sent so far."""
        return self.log().count("Sending due task")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _run(args: list[str], check: bool = True) -> None:
    result = subprocess.run(args, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {result.stderr.strip()}")
