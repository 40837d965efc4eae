"""Celery settings shared by every producer and worker, built from `Settings`.

The producer side (`Fleet`, the CLI) and `worker.app` build their apps from
this one dict, so that both ends agree on serializer, acks and result store.
"""

from __future__ import annotations

from typing import Any

from dockfleet.queues import SHARED_QUEUE
from dockfleet.redis_client import ANSWER_TIMEOUT, CONNECT_TIMEOUT, tls_options
from dockfleet.settings import Settings


def celery_config(settings: Settings) -> dict[str, Any]:
    tls = tls_options(settings)
    return {
        "broker_use_ssl": tls,
        "redis_backend_use_ssl": tls,
        # A Redis that restarts (with persistence) costs a pause, not lost results.
        "result_backend_always_retry": True,
        "result_backend_max_retries": 20,
        "broker_url": settings.redis_url,
        "result_backend": settings.redis_url,
        # JSON only: a message is data, never code (pickle would run what Redis holds).
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        # Ack after the work: a worker that dies mid-task leaves the message for another.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # Events for Flower and a STARTED state for clients that watch a task.
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "task_track_started": True,
        # Not result_extended: it copies the raw task arguments (secret values
        # included) into the result store; Flower gets argsrepr through events.
        "result_extended": False,
        "result_expires": settings.retention.results_seconds,
        "task_default_queue": SHARED_QUEUE,
        "broker_connection_retry_on_startup": True,
        # A producer whose Redis is gone should say so quickly, not hang.
        "task_publish_retry_policy": {
            "max_retries": 2,
            "interval_start": 0.2,
            "interval_step": 0.5,
            "interval_max": 1.0,
        },
        "redis_socket_connect_timeout": CONNECT_TIMEOUT,
        "broker_transport_options": {"socket_connect_timeout": CONNECT_TIMEOUT},
        "enable_utc": True,
    }


def producer_config(settings: Settings) -> dict[str, Any]:
    """`celery_config` for a producer (`Fleet`, the CLI): a Redis that is down, hung or
    refuses the password fails a send or a wait within ~10 s, not after minutes of retries.

    A send publishes with `task_publish_retry_policy` (~2 s of retries) and first
    subscribes to the task's result, through the result store's reconnect policy:
    Celery's default is 20 tries, each up to a connect timeout when Redis hangs.
    The worker keeps the patience of `celery_config`: a result it cannot store is lost.
    """
    timeouts = {"socket_connect_timeout": CONNECT_TIMEOUT, "socket_timeout": ANSWER_TIMEOUT}
    return {
        **celery_config(settings),
        "broker_transport_options": timeouts,
        # Its pub/sub waits poll the socket, so the timeout never cuts a wait for a result.
        "redis_socket_timeout": ANSWER_TIMEOUT,
        # Reconnects for ~3 s (a restarting Redis), and no new try once that has passed.
        "result_backend_transport_options": {
            "retry_policy": {
                "max_retries": 10,
                "interval_start": 0.2,
                "interval_step": 0.5,
                "interval_max": 1.0,
                "timeout": 3.0,
            }
        },
        "result_backend_max_retries": 1,
        "result_backend_max_sleep_between_retries_ms": 1000,
    }
