"""The consumer watchdog, against a real Celery worker consuming a real Redis.

The stall is the shape Celery's Redis consumer has shown after broker outages
(kombu #2007): connected, loop running, but no BRPOP ever sent again. It is
made here by taking `_brpop_start` away from the consumer's live channel: a
daemon fault no real Redis can be asked to produce on cue.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from celery import Celery
from celery.contrib.testing.worker import start_worker
from kombu import Queue

from dockfleet.celery_config import celery_config
from dockfleet.settings import Settings
from tests.conftest import random_name
from worker.process.consumer_watchdog import ConsumerWatchdog

CONCURRENCY = 2


@pytest.fixture
def embedded(redis_url: str) -> Iterator[tuple[Celery, Any]]:
    """A Celery app on its own queue and a threads worker consuming it, in this process."""
    queue = random_name("watchdog")
    app = Celery("watchdog-test", set_as_current=False)
    app.conf.update(celery_config(Settings(redis_url=redis_url)))
    app.conf.update(
        task_queues=[Queue(queue)],
        task_default_queue=queue,
        broker_transport="worker.process.broker:Transport",
        worker_hijack_root_logger=False,
    )

    @app.task(name="watchdog.echo", shared=False)
    def echo(value: int, seconds: float = 0.0) -> int:
        time.sleep(seconds)
        return value

    with start_worker(
        app, pool="threads", concurrency=CONCURRENCY, perform_ping_check=False
    ) as worker:
        yield app, worker.consumer
    app.close()


def stall(consumer: Any) -> None:
    """The consumer's channel never asks Redis for a message again."""
    consumer.task_consumer.channel._brpop_start = lambda timeout=None: None
    time.sleep(1.5)  # a BRPOP already sent times out (1 s) with nothing


def checks_until_reconnect(watchdog: ConsumerWatchdog, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if watchdog.check():
            return True
        time.sleep(0.25)
    return False


def test_a_stalled_consumer_is_made_to_reconnect_and_takes_its_waiting_task(
    embedded: tuple[Celery, Any], redis_url: str
) -> None:
    # Given a worker whose consumer stopped polling Redis after it had taken a task
    app, consumer = embedded
    assert app.tasks["watchdog.echo"].delay(1).get(timeout=10) == 1
    stall(consumer)

    # When a task waits in its queue: nothing takes it...
    waiting = app.tasks["watchdog.echo"].delay(2)
    time.sleep(3)
    assert waiting.state == "PENDING"

    # ...until the watchdog sees it idle beside the waiting message and reconnects it
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    watchdog = ConsumerWatchdog(consumer, client, "h", stall_seconds=1.0)
    try:
        assert checks_until_reconnect(watchdog, within=10)
        # Then the task runs, and the worker goes on taking new ones
        assert waiting.get(timeout=20) == 2
        assert app.tasks["watchdog.echo"].delay(3).get(timeout=10) == 3
    finally:
        watchdog.close()
        client.close()


def test_a_busy_worker_with_a_backlog_is_left_alone(
    embedded: tuple[Celery, Any], redis_url: str
) -> None:
    # Given a worker with every thread busy and more tasks waiting behind them
    app, consumer = embedded
    echo = app.tasks["watchdog.echo"]
    results = [echo.delay(i, seconds=3.0) for i in range(CONCURRENCY * 3)]
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    watchdog = ConsumerWatchdog(consumer, client, "h", stall_seconds=1.0)
    try:
        # When the watchdog looks while they run, it never reconnects the consumer
        assert not checks_until_reconnect(watchdog, within=4)
        # And every task still runs, in turn
        assert [r.get(timeout=30) for r in results] == list(range(CONCURRENCY * 3))
    finally:
        watchdog.close()
        client.close()
