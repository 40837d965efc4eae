"""`dockfleet exporter` as a process, and a real Prometheus server scraping it.

`Exporter` runs ``dockfleet exporter`` on a fixed loopback port, so that it can be
stopped and started again where Prometheus scrapes it. `PrometheusServer` is
Debian's ``prometheus`` (``apt-get install prometheus``) with a private config,
data folder and loopback port, scraping one target every second; `query` asks its
HTTP API.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.services import end_process, free_port, require, wait_for

#: how often Prometheus scrapes the exporter (s)
SCRAPE_SECONDS = 1


class Exporter:
    """``dockfleet exporter --port PORT`` (the default address: loopback) for one Redis."""

    def __init__(self, redis_url: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/metrics"
        self.env = {**os.environ, "DOCKFLEET_REDIS_URL": redis_url}
        self.env.update(DOCKFLEET_HEARTBEAT_INTERVAL="1", DOCKFLEET_STATE_RESYNC_INTERVAL="3")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Exporter:
        dockfleet = str(Path(sys.executable).with_name("dockfleet"))
        self.process = subprocess.Popen(
            [dockfleet, "exporter", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: urllib.request.urlopen(self.url, timeout=2).status == 200, 20, "exporter")
        return self

    def exposition(self) -> str:
        """The text of one scrape."""
        with urllib.request.urlopen(self.url, timeout=10) as response:
            return str(response.read().decode())

    def stop(self) -> None:
        end_process(self.process, 10)


class PrometheusServer:
    """A private Prometheus that scrapes `target` (host:port) every `SCRAPE_SECONDS`."""

    def __init__(self, target: str) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="dockfleet-prometheus-"))
        self.url = f"http://127.0.0.1:{self.port}"
        (self.root / "prometheus.yml").write_text(
            f"global:\n  scrape_interval: {SCRAPE_SECONDS}s\n"
            f"  evaluation_interval: {SCRAPE_SECONDS}s\n"
            "scrape_configs:\n  - job_name: dockfleet\n"
            f"    static_configs:\n      - targets: ['{target}']\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> PrometheusServer:
        binary = shutil.which("prometheus")
        require(binary is not None, "prometheus (apt-get install prometheus)")
        assert binary is not None
        with open(self.root / "prometheus.log", "wb") as log:
            self.process = subprocess.Popen(
                [
                    binary,
                    f"--config.file={self.root / 'prometheus.yml'}",
                    f"--storage.tsdb.path={self.root / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        ready = f"{self.url}/-/ready"
        wait_for(lambda: urllib.request.urlopen(ready, timeout=2).status == 200, 30, "prometheus")
        return self

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The instant vector of `promql` now: each series' labels and value."""
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(url, timeout=10) as response:
            answer = json.load(response)
        assert answer["status"] == "success", answer
        return [
            {"labels": r["metric"], "value": float(r["value"][1])} for r in answer["data"]["result"]
        ]

    def tsdb_head_series(self) -> int:
        """The series in the head block: every series scraped lately, stale ones too."""
        with urllib.request.urlopen(f"{self.url}/api/v1/status/tsdb", timeout=10) as response:
            return int(json.load(response)["data"]["headStats"]["numSeries"])

    def by(self, label: str, promql: str) -> dict[str, float]:
        """`promql`'s values keyed by one label."""
        return {r["labels"].get(label, ""): r["value"] for r in self.query(promql)}

    def scalar(self, promql: str) -> float | None:
        """The one value of `promql` (None when it has no series)."""
        found = self.query(promql)
        assert len(found) <= 1, found
        return found[0]["value"] if found else None

    def log(self) -> str:
        return (self.root / "prometheus.log").read_text(errors="replace")

    def stop(self) -> None:
        end_process(self.process, 10)
        shutil.rmtree(self.root, ignore_errors=True)


def promtool_check(exposition: str) -> subprocess.CompletedProcess[str]:
    """``promtool check metrics`` of an exposition (its lint of names, units and types)."""
    binary = shutil.which("promtool")
    require(binary is not None, "promtool (apt-get install prometheus)")
    assert binary is not None
    return subprocess.run(
        [binary, "check", "metrics"], input=exposition, capture_output=True, text=True, check=False
    )
