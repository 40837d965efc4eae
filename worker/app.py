"""The Celery app of a worker bound to one Docker host: ``celery -A worker.app worker``.

It consumes its host's queue (``dockfleet.host.<host_name>``), the shared
``dockfleet.jobs`` queue and ``dockfleet.maintenance`` (beat's dispatch ticks).
``celery -A worker.app beat`` runs `beat_schedule` through `worker.process.beat`.
The pool defaults to threads: Docker work waits on the engine, and a threads
worker measured ~57 MB RSS against ~155 MB for prefork with two children at
the same job throughput (docs/benchmarks.md, worker memory).
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

from celery import Celery
from celery.signals import (
    celeryd_init,
    setup_logging,
    worker_process_init,
    worker_ready,
    worker_shutdown,
)
from kombu import Queue

from beat_schedule import build_schedule
from dockfleet import logconfig
from dockfleet.celery_config import celery_config
from dockfleet.errors import ConfigError, FleetError
from dockfleet.queues import MAINTENANCE_QUEUE, SHARED_QUEUE, host_queue
from dockfleet.settings import Settings
from worker import runtime as runtime_module
from worker.jobs import netpool
from worker.jobs.adoption import adopt_orphans
from worker.jobs.requeue import requeue_lost
from worker.process.consumer_watchdog import ConsumerWatchdog
from worker.process.heartbeat import Heartbeat
from worker.process.state_cache import StateFollower

TASK_MODULES = [
    "tasks.containers",
    "tasks.system",
    "tasks.images",
    "tasks.networks",
    "tasks.caches",
    "tasks.jobs",
    "tasks.maintenance",
]


def make_app(settings: Settings) -> Celery:
    app = Celery("dockfleet", include=TASK_MODULES, set_as_current=True)
    app.conf.update(celery_config(settings))
    app.conf.update(
        task_queues=[
            Queue(host_queue(settings.host_name)),
            Queue(SHARED_QUEUE),
            Queue(MAINTENANCE_QUEUE),
        ],
        # Celery's CLI cannot tell `--pool prefork` from its default, so the pool is a
        # setting (DOCKFLEET_WORKER_POOL) rather than a command-line flag.
        worker_pool=settings.worker_pool,
        worker_concurrency=settings.worker_concurrency,
        worker_hijack_root_logger=False,
        # Same Redis, but a malformed item on a queue cannot stop the worker.
        broker_transport="worker.process.broker:Transport",
        # `celery -A worker.app beat`: the schedule from settings, one leader at a time.
        beat_schedule=build_schedule(settings),
        beat_scheduler="worker.process.beat:LockedScheduler",
        beat_max_loop_interval=2,
    )
    return app


try:
    settings = Settings()
except ConfigError as exc:
    # One line, as `dockfleet worker` says it, not Celery's "Unable to load celery
    # application" traceback; 125 is what the unit's RestartPreventExitStatus names.
    print(f"dockfleet: error: {exc}", file=sys.stderr)
    raise SystemExit(125) from None
if settings.log_format == "json":
    # Before Celery's start-up checks, whose warnings would otherwise be plain text.
    logconfig.configure("json")
runtime_module.configure(settings)
app = make_app(settings)
_heartbeats: list[Heartbeat] = []
_followers: list[StateFollower] = []


@setup_logging.connect
def _configure_logging(loglevel: int | str | None = None, **_: Any) -> None:
    # Connected, so Celery leaves logging to us: one format for Celery's lines and ours.
    logconfig.configure(settings.log_format, loglevel)


@celeryd_init.connect
def _quiet_banner_for_json(instance: Any = None, **_: Any) -> None:
    # The banner is plain text on stdout: in JSON mode every line must be JSON.
    if settings.log_format == "json" and instance is not None:
        instance.quiet = True


@worker_process_init.connect
def _drop_inherited_clients(**_: Any) -> None:
    runtime_module.reset_after_fork()


@worker_ready.connect
def _start_heartbeat(sender: Any = None, **_: Any) -> None:
    name = getattr(sender, "hostname", None) or f"worker@{settings.host_name}"
    rt = runtime_module.runtime()
    watchdog = ConsumerWatchdog(sender, rt.redis, rt.host) if sender is not None else None
    beat = Heartbeat(
        rt,
        name,
        on_beat=lambda: _look_after_jobs(rt, watchdog),
        on_engine_change=lambda ok: _take_shared_jobs(name, ok),
    )
    beat.start()
    _heartbeats.append(beat)
    threading.Thread(target=_prewarm_networks, args=(rt,), name="netpool", daemon=True).start()
    _followers.append(StateFollower(rt).start())


def _look_after_jobs(rt: runtime_module.Runtime, watchdog: ConsumerWatchdog | None) -> None:
    """Each heartbeat: unstick a stalled consumer, adopt the host's jobs whose worker died,
    resend lost job messages."""
    if watchdog is not None:
        watchdog.check()
    adopt_orphans(rt, app)
    requeue_lost(rt, app)


def _prewarm_networks(rt: runtime_module.Runtime) -> None:
    try:
        netpool.prewarm(rt)
    except FleetError as exc:  # jobs then create their networks on demand; nothing is lost
        logging.getLogger(__name__).warning("could not prewarm job networks: %s", exc)
    except Exception:  # not one the fleet knows: its traceback helps
        logging.getLogger(__name__).warning("could not prewarm job networks", exc_info=True)


def _take_shared_jobs(worker_name: str, engine_ok: bool) -> None:
    """A host whose engine is down stops taking shared jobs; it takes them again when back.

    Sent as a control command to this very worker so the consumer changes its
    queues in its own thread (the heartbeat runs in another).
    """
    if engine_ok:
        app.control.add_consumer(SHARED_QUEUE, destination=[worker_name], reply=False)
    else:
        app.control.cancel_consumer(SHARED_QUEUE, destination=[worker_name], reply=False)


@worker_shutdown.connect
def _stop_heartbeat(**_: Any) -> None:
    while _heartbeats:
        _heartbeats.pop().stop()
    while _followers:
        _followers.pop().stop()
    try:
        netpool.drain(runtime_module.runtime())
    except Exception:  # Redis or the engine already gone: cleanup removes them later
        logging.getLogger(__name__).warning("could not drain the network pool", exc_info=True)
