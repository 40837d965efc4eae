"""Flower as a subprocess with basic auth, and a recorder of the fleet's Celery events."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from celery import Celery

from tests.support.services import REPO, end_process, free_port, wait_for

USER = "fleet-admin"


class Flower:
    def __init__(self, redis_url: str) -> None:
        self.port = free_port()
        self.password = secrets.token_urlsafe(12)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(tempfile.gettempdir()) / f"flower-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWER_")}
        env.update(DOCKFLEET_REDIS_URL=redis_url, FLOWER_BASIC_AUTH=f"{USER}:{self.password}")
        args = [sys.executable, "-m", "celery", "-A", "worker.app", "flower"]
        args += ["--address=127.0.0.1", f"--port={self.port}"]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_for(lambda: self.get("/healthcheck", auth=False)[0] == 200, 60, "Flower")

    def get(self, path: str, auth: bool = True) -> tuple[int, Any]:
        request = urllib.request.Request(self.url + path)
        if auth:
            token = base64.b64encode(f"{USER}:{self.password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                body = response.read()
                kind = response.headers.get("Content-Type", "")
                return response.status, json.loads(body) if "json" in kind else body.decode()
        except urllib.error.HTTPError as exc:
            return exc.code, None

    def stop(self) -> None:
        end_process(self.process, 15)
        self.log_path.unlink(missing_ok=True)


class CeleryEvents:
    """Every Celery event of the fleet, recorded with Celery's own receiver (as Flower gets
    them) from the moment it is entered (it waits for a worker's heartbeat to be sure)."""

    def __init__(self, redis_url: str) -> None:
        self.app = Celery("dockfleet-test-events", broker=redis_url, set_as_current=False)
        self.events: list[dict[str, Any]] = []
        self._receiver: Any = None
        self._thread = threading.Thread(target=self._run, name="celery-events", daemon=True)

    def __enter__(self) -> CeleryEvents:
        self._thread.start()
        wait_for(lambda: any(e["type"] == "worker-heartbeat" for e in self.events), 30, "events")
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._receiver is not None:
            self._receiver.should_stop = True
        self._thread.join(10)
        self.app.close()

    def _run(self) -> None:
        with self.app.connection_for_read() as connection:
            self._receiver = self.app.events.Receiver(
                connection, handlers={"*": self.events.append}
            )
            self._receiver.capture(limit=None, timeout=None, wakeup=True)

    def of_task(self, task_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("uuid") == task_id]
