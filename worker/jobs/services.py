"""A job's services: started with their aliases on the job network and waited for.

Ready means: healthy, when the image (or spec) has a HEALTHCHECK; else every
exposed TCP port accepts a connection to its alias on the job network (tried by
a probe container, `probe`, since the worker itself may not reach that network);
else simply running. A service that exits or stays unready past its timeout
fails the job with its log tail.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from dockfleet.errors import ServiceNotReady
from dockfleet.models import LogOptions
from dockfleet.models.jobs import ServiceSpec
from worker.engine import containers as engine
from worker.engine.logs import LogReader
from worker.engine.objects import ContainerState
from worker.jobs import probe
from worker.runtime import Runtime

POLL_SECONDS = 0.1
LOG_TAIL_LINES = 20


def wait_ready(rt: Runtime, job_id: str, services: list[tuple[ServiceSpec, str]]) -> None:
    """Wait for every (spec, container id) at once; raise for the first that fails."""
    if not services:
        return
    with ThreadPoolExecutor(len(services)) as pool:
        futures = [pool.submit(_wait_one, rt, job_id, spec, cid) for spec, cid in services]
        for future in futures:
            future.result()


def _wait_one(rt: Runtime, job_id: str, spec: ServiceSpec, container_id: str) -> None:
    deadline = time.monotonic() + spec.readiness_timeout
    prober: str | None = None
    try:
        while True:
            state = engine.inspect_state(rt.docker, container_id)
            if not state.running:
                reason = f"it exited with code {state.exit_code}"
                raise ServiceNotReady(spec.alias, reason, log_tail(rt, state))
            health = state.health
            if health == "healthy":
                return
            ports = state.exposed_tcp_ports
            if health is None and not ports:
                return  # nothing to wait for: running is ready
            if health is None:
                if prober is None:
                    try:
                        prober = probe.start(
                            rt, job_id, spec.alias, ports, container_id, spec.readiness_timeout
                        )
                    except ServiceNotReady:
                        # A service that died since the inspect refuses the probe its
                        # network ("cannot join network of a non running container"):
                        # then its exit is the reason, said on the next round.
                        if engine.inspect_state(rt.docker, container_id).running:
                            raise
                        continue
                if probe.finished(rt, prober):
                    prober = None  # gone by itself
                    return
            if time.monotonic() > deadline:
                why = f"health is {health!r}" if health else f"ports {ports} do not accept"
                reason = f"not ready after {spec.readiness_timeout:g}s ({why})"
                raise ServiceNotReady(spec.alias, reason, log_tail(rt, state))
            time.sleep(POLL_SECONDS)
    finally:
        if prober is not None:
            probe.stop(rt, prober)


def log_tail(rt: Runtime, state: ContainerState) -> str:
    """The last lines of a container's output, for error messages."""
    reader = LogReader(rt.docker, state, LogOptions(tail=LOG_TAIL_LINES))
    try:
        return "\n".join(text for _, text, _ in reader.lines())
    finally:
        reader.close()
