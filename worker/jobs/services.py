"""A job's services: started with their aliases on the job network and waited for.

Ready means: healthy, when the image (or spec) has a HEALTHCHECK; else every
exposed TCP port accepts a connection; else simply running. A service that
exits or stays unready past its timeout fails the job with its log tail.
"""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dockfleet.errors import ServiceNotReady
from dockfleet.models import LogOptions
from dockfleet.models.jobs import ServiceSpec
from worker.engine import containers as engine
from worker.engine.logs import LogReader
from worker.runtime import Runtime

POLL_SECONDS = 0.2
LOG_TAIL_LINES = 20


def wait_ready(rt: Runtime, services: list[tuple[ServiceSpec, str]], network: str | None) -> None:
    """Wait for every (spec, container id) at once; raise for the first that fails."""
    if not services:
        return
    with ThreadPoolExecutor(len(services)) as pool:
        futures = [pool.submit(_wait_one, rt, spec, cid, network) for spec, cid in services]
        for future in futures:
            future.result()


def _wait_one(rt: Runtime, spec: ServiceSpec, container_id: str, network: str | None) -> None:
    deadline = time.monotonic() + spec.readiness_timeout
    while True:
        doc = engine.inspect_raw(rt.docker, container_id)
        state = doc.get("State") or {}
        if not state.get("Running"):
            reason = f"it exited with code {state.get('ExitCode')}"
            raise ServiceNotReady(spec.alias, reason, log_tail(rt, doc))
        health = (state.get("Health") or {}).get("Status")
        if health == "healthy" or (health is None and _ports_open(doc, network)):
            return
        if time.monotonic() > deadline:
            why = (
                f"health is {health!r}" if health else "its exposed ports do not accept connections"
            )
            reason = f"not ready after {spec.readiness_timeout:g}s ({why})"
            raise ServiceNotReady(spec.alias, reason, log_tail(rt, doc))
        time.sleep(POLL_SECONDS)


def _ports_open(doc: dict[str, Any], network: str | None) -> bool:
    exposed = [
        int(port.partition("/")[0])
        for port in ((doc.get("Config") or {}).get("ExposedPorts") or {})
        if port.endswith("/tcp")
    ]
    if not exposed:
        return True
    networks = (doc.get("NetworkSettings") or {}).get("Networks") or {}
    endpoint = networks.get(network) if network else next(iter(networks.values()), None)
    address = (endpoint or {}).get("IPAddress")
    if not address:
        return False
    return all(_accepts(address, port) for port in exposed)


def _accepts(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=0.5):
            return True
    except OSError:
        return False


def log_tail(rt: Runtime, doc: dict[str, Any]) -> str:
    """The last lines of a container's output, for error messages."""
    reader = LogReader(rt.docker, doc, LogOptions(tail=LOG_TAIL_LINES))
    try:
        return "\n".join(text for _, text, _ in reader.lines())
    finally:
        reader.close()
