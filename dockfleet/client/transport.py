"""Sends tasks by name and waits for their results, mapping transport failures to errors.

The producer never imports `tasks` or `worker`: a CI machine enqueues with
only this package installed. A result that takes longer than its timeout
means no worker of that host answered: that is `HostUnavailable`, and the
message expires so that it does not run long after its caller gave up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import celery.exceptions
import kombu.exceptions
import redis
import redis.exceptions
from celery import Celery
from celery.result import AsyncResult

from dockfleet.celery_config import celery_config
from dockfleet.errors import BrokerUnavailable, HostUnavailable
from dockfleet.queues import HOST_QUEUE_PREFIX
from dockfleet.redis_client import connect
from dockfleet.settings import Settings


def safe_url(url: str) -> str:
    """`url` with any password replaced, for messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


class Transport:
    """A producer-side Celery app and Redis client for one `Settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = Celery("dockfleet-client", set_as_current=False)
        self.app.conf.update(celery_config(settings))
        self.redis = connect(settings)

    def send(
        self,
        name: str,
        args: Sequence[Any],
        queue: str,
        *,
        timeout: float | None,
        argsrepr: str | None = None,
        task_id: str | None = None,
    ) -> AsyncResult:  # type: ignore[type-arg]
        """Send by name; a `timeout` also makes the message expire unrun after it."""
        try:
            return self.app.send_task(
                name,
                args=list(args),
                queue=queue,
                expires=timeout,
                argsrepr=argsrepr,
                task_id=task_id,
            )
        except (kombu.exceptions.OperationalError, redis.exceptions.ConnectionError) as exc:
            raise BrokerUnavailable(safe_url(self.settings.redis_url), str(exc)) from None

    def call(
        self,
        name: str,
        args: Sequence[Any],
        queue: str,
        *,
        timeout: float | None = None,
        argsrepr: str | None = None,
    ) -> Any:
        """Send and wait; the worker's exception is raised here with its own type."""
        wait = timeout or self.settings.default_timeout
        result = self.send(name, args, queue, timeout=wait, argsrepr=argsrepr)
        return self.wait(result, queue, wait)

    def wait(self, result: AsyncResult, queue: str, timeout: float) -> Any:  # type: ignore[type-arg]
        try:
            return result.get(timeout=timeout, propagate=True, disable_sync_subtasks=False)
        except celery.exceptions.TimeoutError:
            host = queue.removeprefix(HOST_QUEUE_PREFIX)
            raise HostUnavailable(host, f"no worker answered within {timeout:g}s") from None
        except (kombu.exceptions.OperationalError, redis.exceptions.ConnectionError) as exc:
            raise BrokerUnavailable(safe_url(self.settings.redis_url), str(exc)) from None

    def check_redis(self) -> None:
        try:
            self.redis.ping()
        except redis.exceptions.ConnectionError as exc:
            raise BrokerUnavailable(safe_url(self.settings.redis_url), str(exc)) from None

    def close(self) -> None:
        self.redis.close()
        self.app.close()
