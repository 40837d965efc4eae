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
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from dockfleet.celery_command import celery_command, worker_command
from tests.support.tls import TlsFiles

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


def end_process(process: subprocess.Popen[bytes] | None, grace: float) -> None:
    """SIGTERM, `grace` seconds to exit, then SIGKILL: a service of the tests is stopped."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


class RedisServer:
    def __init__(
        self, password: str | None = None, persistent: bool = False, tls: TlsFiles | None = None
    ) -> None:
        self.port = free_port()
        self.password = password
        self.tls = tls
        # Persistent: AOF fsynced on every write, so even a SIGKILL loses nothing acknowledged.
        self.data_dir = tempfile.mkdtemp(prefix="dockfleet-redis-") if persistent else None
        auth = f":{password}@" if password else ""
        scheme = "rediss" if tls else "redis"
        self.url = f"{scheme}://{auth}127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        require(binary is not None, "redis-server (apt-get install redis-server)")
        assert binary is not None
        args = [binary, "--bind", "127.0.0.1", "--save", ""]
        if self.tls:
            args += ["--port", "0", "--tls-port", str(self.port), "--tls-auth-clients", "no"]
            args += ["--tls-cert-file", str(self.tls.server_cert)]
            args += ["--tls-key-file", str(self.tls.server_key)]
            args += ["--tls-ca-cert-file", str(self.tls.ca)]
        else:
            args += ["--port", str(self.port)]
        if self.data_dir:
            args += ["--appendonly", "yes", "--appendfsync", "always", "--dir", self.data_dir]
        else:
            args += ["--appendonly", "no"]
        args += ["--daemonize", "no", "--loglevel", "warning"]
        if self.password:
            args += ["--requirepass", self.password]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        extra = {"ssl_ca_certs": str(self.tls.ca)} if self.tls else {}
        client = redis.Redis.from_url(self.url, **extra)
        wait_for(lambda: bool(client.ping()), 10, "redis-server")
        client.close()
        return self

    def kill(self) -> None:
        """SIGKILL: Redis dies as in a crash (what AOF-always keeps is all there is)."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        end_process(self.process, 10)
        if self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


class DockerDaemon:
    """An extra dockerd on this machine: a second Docker host for the fleet."""

    def __init__(
        self,
        tag: str,
        subnet_octet: int,
        tls: TlsFiles | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.tag = tag
        self.extra_args = extra_args
        self.socket = f"/run/dft-{tag}.sock"
        self.local_url = f"unix://{self.socket}"
        self.tls = tls
        # With TLS the daemon also listens on loopback TCP: that is the URL a worker uses.
        self.url = f"tcp://127.0.0.1:{free_port()}" if tls else self.local_url
        self.data_root = f"/var/lib/dockfleet-test-{tag}"
        self.exec_root = f"/run/dft-{tag}"
        self.bridge = f"br-dft{tag}"[:15]
        self.address = f"10.213.{subnet_octet}.1/24"
        # Its own address pool for the networks it makes: daemons share the host's routes,
        # and the default pools (172.17-31/16, 192.168/20s) run out across several daemons.
        self.address_pool = f"base=10.{subnet_octet % 150 + 20}.0.0/16,size=24"
        self.log_path = Path(tempfile.gettempdir()) / f"dockerd-{tag}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> DockerDaemon:
        require(shutil.which("dockerd") is not None, "dockerd (apt-get install docker.io)")
        require(os.geteuid() == 0, "root, to start a second dockerd")
        _run(["ip", "link", "add", "name", self.bridge, "type", "bridge"])
        _run(["ip", "addr", "add", self.address, "dev", self.bridge])
        _run(["ip", "link", "set", self.bridge, "up"])
        return self.resume()

    def halt(self) -> None:
        """Stop the engine process only (as `systemctl stop docker`); `resume` starts it again.

        Its network store goes with it: a dockerd that restarts with a stored default
        network and no running container deletes the interface named docker0 (moby's
        removeDefaultBridgeInterface) — the *machine's* engine's bridge, not its own.
        """
        bridges = self._network_bridges()
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)
        Path(self.data_root, "network", "files", "local-kv.db").unlink(missing_ok=True)
        for bridge in bridges:
            _run(["ip", "link", "delete", bridge], check=False)

    def _network_bridges(self) -> list[str]:
        listed = self.docker(["network", "ls", "-q", "--filter", "type=custom"]).stdout.decode()
        return [f"br-{network_id[:12]}" for network_id in listed.split()]

    def resume(self) -> DockerDaemon:
        args = ["dockerd", "--host", self.local_url, "--data-root", self.data_root]
        if self.tls:
            args += ["--host", self.url, "--tlsverify", f"--tlscacert={self.tls.ca}"]
            args += [f"--tlscert={self.tls.server_cert}", f"--tlskey={self.tls.server_key}"]
        args += ["--exec-root", self.exec_root, "--pidfile", f"{self.exec_root}/dockerd.pid"]
        # --iptables=false: with the default it would flush the first daemon's chains.
        args += ["--bridge", self.bridge, "--iptables=false", "--shutdown-timeout", "2"]
        args += ["--default-address-pool", self.address_pool, *self.extra_args]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: self.docker(["version"]).returncode == 0, 30, f"dockerd {self.tag}")
        return self

    def docker(self, args: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["docker", "-H", self.local_url, *args], capture_output=True, **kwargs
        )  # type: ignore[call-overload, no-any-return]

    def load_image(self, image: str, source: str) -> None:
        """Copy `image` from the engine at `source` (no registry needed)."""
        save = subprocess.Popen(["docker", "-H", source, "save", image], stdout=subprocess.PIPE)
        load = subprocess.run(
            ["docker", "-H", self.local_url, "load", "-q"], stdin=save.stdout, capture_output=True
        )
        save.wait()
        assert load.returncode == 0, load.stderr

    def stop(self) -> None:
        # Its networks' bridges outlive it (dockerd keeps them for a restart): note them
        # now and delete them after, or their routes would use up the host's address space.
        bridges = self._network_bridges()
        end_process(self.process, 30)
        for bridge in [self.bridge, *bridges]:
            _run(["ip", "link", "delete", bridge], check=False)
        shutil.rmtree(self.data_root, ignore_errors=True)
        shutil.rmtree(self.exec_root, ignore_errors=True)


class RegistryServer:
    """Debian's ``docker-registry`` on a free loopback port, with htpasswd auth.

    Filesystem storage in a temp dir, deletes enabled; its access log (one
    line per request) is kept so tests can count what the engine asked for.
    """

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.root = Path(tempfile.mkdtemp(prefix="dockfleet-registry-"))
        self.log_path = self.root / "registry.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RegistryServer:
        binary = shutil.which("docker-registry")
        require(binary is not None, "docker-registry (apt-get install docker-registry)")
        htpasswd = shutil.which("htpasswd")
        require(htpasswd is not None, "htpasswd (apt-get install apache2-utils)")
        assert binary is not None and htpasswd is not None
        made = subprocess.run(
            [htpasswd, "-Bbn", self.username, self.password], capture_output=True, check=True
        )
        (self.root / "htpasswd").write_bytes(made.stdout)
        config = self.root / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: info\n  accesslog:\n    disabled: false\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.root / 'data'}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.address}\n"
            f"auth:\n  htpasswd:\n    realm: dockfleet-tests\n    path: {self.root / 'htpasswd'}\n"
        )
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
            )

        def answers() -> bool:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True

        wait_for(answers, 10, "docker-registry")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def requests(self, method: str, path_part: str) -> int:
        """How many access-log lines show `method` on a path containing `path_part`."""
        return sum(
            1
            for line in self.log().splitlines()
            if f'"{method} ' in line and path_part in line and "HTTP/1.1" in line
        )

    def stop(self) -> None:
        end_process(self.process, 10)
        shutil.rmtree(self.root, ignore_errors=True)


class WorkerProcess:
    """``celery -A worker.app worker`` serving one Docker host, as a subprocess."""

    def __init__(
        self, host: str, env: dict[str, str], index: int = 0, extra_args: list[str] | None = None
    ) -> None:
        self.host = host
        self.extra_args = extra_args or []
        self.name = f"{host}-{index}@localhost"
        self.env = {**os.environ, **env, "DOCKFLEET_HOST_NAME": host}
        self.log_path = Path(tempfile.gettempdir()) / f"worker-{host}-{index}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        args = worker_command(self.name, options=self.extra_args)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                args, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def wait_ready(self, redis_url: str, timeout: float = 60, **redis_options: str) -> None:
        """Ready once its heartbeat lists it as a worker of its host."""
        client = redis.Redis.from_url(redis_url, decode_responses=True, **redis_options)

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

    def log_lines(self, *needles: str, lines: int = 80) -> str:
        """The last `lines` log lines that hold any of `needles` (a job id, "WARNING/")."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        hits = [line for line in text.splitlines() if any(n in line for n in needles)]
        return "\n".join(hits[-lines:])

    def kill(self) -> None:
        """kill -9: the worker dies mid-work, as in a crash or an OOM kill."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def children(self) -> list[int]:
        assert self.process is not None
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True)
        return [int(pid) for pid in out.stdout.split()]

    def stop(self) -> None:
        end_process(self.process, 20)  # SIGTERM: a warm shutdown, what runs finishes
        self._remove_pooled_networks()

    def _remove_pooled_networks(self) -> None:
        """A worker drains its warm network pool when it stops; one killed cannot. Each
        network holds one of the engine's ~30 address pools: never leave them behind."""
        engine = self.env.get("DOCKFLEET_DOCKER_HOST", "unix:///var/run/docker.sock")
        if not engine.startswith("unix://"):
            return  # a TLS test engine goes away whole
        selector = f"label=dockfleet.pool={self.host}"
        listed = subprocess.run(
            ["docker", "-H", engine, "network", "ls", "-q", "--filter", selector],
            capture_output=True,
            text=True,
        )
        for network_id in listed.stdout.split():
            subprocess.run(
                ["docker", "-H", engine, "network", "rm", network_id], capture_output=True
            )


class BeatProcess:
    """``celery -A worker.app beat`` as a subprocess, logging at INFO (what it sends)."""

    def __init__(self, env: dict[str, str], tag: str) -> None:
        self.env = {**os.environ, **env}
        self.tag = tag
        self.log_path = Path(tempfile.gettempdir()) / f"beat-{tag}.log"
        self.workdir = tempfile.mkdtemp(prefix=f"dockfleet-beat-{tag}-")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> BeatProcess:
        schedule = os.path.join(self.workdir, "schedule")
        args = celery_command("beat", "--loglevel", "INFO", "--schedule", schedule)
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
        end_process(self.process, 15)
        shutil.rmtree(self.workdir, ignore_errors=True)


def run_script(name: str) -> str:
    """Run one of the project's scripts/ (e.g. base-image.sh); what it printed."""
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / name)], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, f"{name} failed:\n{done.stderr[-3000:]}"
    return done.stdout.strip()


def _run(args: list[str], check: bool = True) -> None:
    result = subprocess.run(args, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {result.stderr.strip()}")
