"""Sends tasks by name and waits for their results, mapping transport failures to errors.

The producer never imports `tasks` or `worker`: a CI machine enqueues with
only this package installed. A result that takes longer than its timeout
means no worker of that host answered: that is `HostUnavailable`, and the
message expires so that it does not run long after its caller gave up.

`fleet_errors` is the one place where a Redis that is down, hung or
refuses the password becomes a `BrokerUnavailable` that says what to do:
the transport's own calls go through it, and the CLI runs every command in it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import celery.exceptions
import kombu.exceptions
import redis
import redis.exceptions
from celery import Celery
from celery.result import AsyncResult

from dockfleet.celery_config import producer_config
from dockfleet.errors import (
    ANY_HOST,
    BrokerAuthError,
    BrokerTimeout,
    BrokerUnavailable,
    HostUnavailable,
)
from dockfleet.queues import HOST_QUEUE_PREFIX
from dockfleet.redis_client import ANSWER_TIMEOUT, connect
from dockfleet.settings import Settings

#: how Redis fails a producer: directly, through kombu (OperationalError), or through
#: Celery's result store (RuntimeError, "must be restarted"); the cause says which
REDIS_FAILURES = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.AuthenticationWrongNumberOfArgsError,
    kombu.exceptions.OperationalError,
    RuntimeError,
)
#: a password refused, or wanted and not given (NOAUTH), or given to a Redis without one
AUTH_FAILURES = (
    redis.exceptions.AuthenticationError,
    redis.exceptions.AuthenticationWrongNumberOfArgsError,
)


def safe_url(url: str) -> str:
    """`url` with any password replaced, for messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def broker_error(exc: BaseException, url: str, source: str = "") -> BrokerUnavailable | None:
    """The `BrokerUnavailable` that `exc` means (None: not a Redis failure).

    Args:
        url: the Redis URL (its password is never shown).
        source: where the URL came from (``DOCKFLEET_REDIS_URL``, ``--redis-url``...),
            for the advice; empty for the default local Redis.
    """
    cause = _redis_cause(exc)
    if cause is None:
        return None
    shown = safe_url(url)
    if isinstance(cause, AUTH_FAILURES):
        where = source or "DOCKFLEET_REDIS_URL"
        if urlsplit(url).password:
            return BrokerAuthError(shown, "refused the password", f"check {where}")
        return BrokerAuthError(
            shown, "wants a password", f"give it in {where} (redis://:PASSWORD@host:port/db)"
        )
    if source:
        hint = f"start that Redis, or correct {source}"
    else:
        hint = "start a fleet with `dockfleet up -d`, or set DOCKFLEET_REDIS_URL"
    if isinstance(cause, (redis.exceptions.TimeoutError, TimeoutError)):
        return BrokerTimeout(shown, f"did not answer within {ANSWER_TIMEOUT:g}s", hint)
    return BrokerUnavailable(shown, _reason(cause), hint)


def _redis_cause(exc: BaseException) -> BaseException | None:
    """The Redis or socket error at the root of `exc` (kombu and Celery wrap it as the
    cause); None when `exc` does not come from reaching Redis."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, redis.exceptions.RedisError) and isinstance(seen, REDIS_FAILURES):
            return seen
        if isinstance(seen, OSError) and seen is not exc:  # kombu's socket error, wrapped
            return seen
        seen = seen.__cause__
    return None


def _reason(error: BaseException) -> str:
    """The socket's own words ("Connection refused"), else the error's."""
    for candidate in (error, error.__cause__, error.__context__):
        if isinstance(candidate, OSError) and candidate.strerror:
            return candidate.strerror
    return str(error).rstrip(".") or type(error).__name__


@contextlib.contextmanager
def fleet_errors(url: str, source: str = "") -> Iterator[None]:
    """Raise a Redis failure as its `BrokerUnavailable` (see `broker_error`)."""
    try:
        yield
    except REDIS_FAILURES as exc:
        error = broker_error(exc, url, source)
        if error is None:
            raise
        raise error from None


class Transport:
    """A producer-side Celery app and Redis client for one `Settings`.

    `url_source` names where the Redis URL came from, for the advice in errors
    (default: ``DOCKFLEET_REDIS_URL`` when the URL was set, nothing for the default).
    """

    def __init__(self, settings: Settings, url_source: str | None = None) -> None:
        self.settings = settings
        if url_source is None:
            url_source = "DOCKFLEET_REDIS_URL" if "redis_url" in settings.model_fields_set else ""
        self.url_source = url_source
        self.app = Celery("dockfleet-client", set_as_current=False)
        self.app.conf.update(producer_config(settings))
        self.redis = connect(settings, timeout=ANSWER_TIMEOUT)

    def errors(self) -> contextlib.AbstractContextManager[None]:
        """`fleet_errors` for this transport's Redis."""
        return fleet_errors(self.settings.redis_url, self.url_source)

    def no_live_host(self) -> HostUnavailable:
        """No Docker host of the fleet is up (by heartbeats): say how to start one."""
        return HostUnavailable(
            ANY_HOST,
            f"no live Docker host in the fleet at {safe_url(self.settings.redis_url)}: start a "
            "worker (`dockfleet up -d`, or `celery -A worker.app worker` on a Docker host with "
            "this Redis as DOCKFLEET_REDIS_URL)",
        )

    def send(
        self,
        name: str,
        args: Sequence[Any],
        queue: str,
        *,
        timeout: float | None,
        argsrepr: str | None = None,
        task_id: str | None = None,
        ignore_result: bool = False,
    ) -> AsyncResult:  # type: ignore[type-arg]
        """Send by name; a `timeout` also makes the message expire unrun after it.

        `ignore_result`: the worker stores no Celery result (nor its STARTED state) and this
        client does not listen for one: for a task whose outcome has its own record.
        """
        with self.errors():
            return self.app.send_task(
                name,
                args=list(args),
                queue=queue,
                expires=timeout,
                argsrepr=argsrepr,
                task_id=task_id,
                ignore_result=ignore_result,
            )

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
        with self.errors():
            try:
                return result.get(timeout=timeout, propagate=True, disable_sync_subtasks=False)
            except celery.exceptions.TimeoutError:
                # The result backend keeps a result it waits for until it arrives: let
                # this one go now, while Redis and the interpreter are up, not in its
                # __del__ at exit ("Exception ignored in AsyncResult.__del__ ...").
                result.backend.remove_pending_result(result)  # type: ignore[attr-defined]  # Redis: async
                host = queue.removeprefix(HOST_QUEUE_PREFIX)
                raise HostUnavailable(host, f"no worker answered within {timeout:g}s") from None

    def check_redis(self) -> None:
        with self.errors():
            self.redis.ping()

    def close(self) -> None:
        self.redis.close()
        self.app.close()
