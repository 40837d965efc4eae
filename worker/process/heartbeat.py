"""Heartbeats: each worker writes its host's liveness and facts into Redis.

A daemon thread in the worker's main process writes every
``heartbeat_interval``; the client calls a host down after three missed beats
(see `dockfleet.store.host_records`). An engine that does not answer is written as
``engine_ok=0`` so the host shows as down while its worker still runs. Disk
use of the engine's data root is included when the worker sees it, and the
worker's ``max_containers`` (the host's capacity, for the exporter); the stats
sweep adds how it sampled (``sampling_mode``) to the same hash.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from dockfleet.errors import HostUnavailable
from dockfleet.logconfig import event
from dockfleet.models import SystemInfo
from dockfleet.store import host_records
from worker.engine import system as engine_system
from worker.engine.errors import translate
from worker.maintenance.disk import data_root_usage
from worker.process.periodic import Periodic
from worker.runtime import Runtime

log = logging.getLogger(__name__)
#: the two events of a change in the engine's answer: name, text, level
_HOST_UP = ("host.up", "Docker host {host} is up (engine {docker_version})", logging.INFO)
_HOST_DOWN = ("host.down", "Docker host {host} is down: {reason}", logging.WARNING)


class Heartbeat:
    def __init__(
        self,
        rt: Runtime,
        worker_name: str,
        on_beat: Callable[[], object] | None = None,
        on_engine_change: Callable[[bool], object] | None = None,
    ) -> None:
        self.rt = rt
        self.worker_name = worker_name
        self.on_beat = on_beat
        self.on_engine_change = on_engine_change
        #: whether the engine answered at the last beat (None before the first)
        self.engine_ok: bool | None = None
        #: why the engine failed the last beat, for the host.down line
        self.down_reason = ""
        interval = rt.settings.heartbeat_interval
        self._beats = Periodic("dockfleet-heartbeat", interval, self._beat_logged)

    def start(self) -> None:
        self.beat()
        self._beats.start()

    def stop(self) -> None:
        self._beats.stop(wait=0)
        try:
            host_records.withdraw_worker(self.rt.redis, self.rt.host, self.worker_name)
        except Exception:  # Redis may be the thing that is gone; nothing to undo then
            log.debug("could not withdraw worker %s", self.worker_name, exc_info=True)

    def _beat_logged(self) -> None:
        try:
            self.beat()
        except Exception:  # keep beating: a Redis blip must not end the heartbeat
            log.warning("heartbeat of host %s failed", self.rt.host, exc_info=True)

    def beat(self) -> None:
        now = time.time()
        info: SystemInfo | None = None
        disk: tuple[int, int] | None = None
        try:
            info = engine_system.info(self.rt.docker, self.rt.host)
            disk = data_root_usage(self.rt.settings, info.docker_root_dir)
        except Exception as exc:  # the engine is down: say so, keep the worker listed
            log.debug("Docker host %s unreachable: %s", self.rt.host, exc)
            info = None
            self.down_reason = _why_down(exc, self.rt.host)
        host_records.write_beat(
            self.rt.redis,
            self.rt.host,
            self.worker_name,
            now,
            info,
            disk,
            max_containers=self.rt.settings.max_containers,
        )
        engine_ok = info is not None
        previous, self.engine_ok = self.engine_ok, engine_ok
        if engine_ok != previous:
            self._report_change(info)
            # A worker starts consuming every queue: only a change calls for action.
            if self.on_engine_change is not None and (previous is not None or not engine_ok):
                self.on_engine_change(engine_ok)
        if engine_ok and self.on_beat is not None:
            self.on_beat()

    def _report_change(self, info: SystemInfo | None) -> None:
        """Log host.down / host.up when the engine's answer changes (and host.up at start)."""
        name, template, level = _HOST_UP if info is not None else _HOST_DOWN
        event(
            log,
            name,
            template,
            level=level,
            host=self.rt.host,
            worker=self.worker_name,
            # a None field is left out: host.up names the version, host.down the reason
            docker_version=info.docker_version if info is not None else None,
            reason=self.down_reason if info is None else None,
        )


def _why_down(exc: BaseException, host: str) -> str:
    """What the host.down line says: that the engine is silent, or what it refuses and
    what mends it (a pinned API version Docker 29 refuses, say)."""
    error = translate(exc, host)
    if error is None or isinstance(error, HostUnavailable):
        return "its engine does not answer"
    return str(error)
