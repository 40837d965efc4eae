"""How a failing Redis reaches a producer, and the one line that says what to do.

The errors are the very ones redis-py, kombu and Celery's result store raise
(built here, as they chain them); `broker_error` must see through the wrapping.
"""

from __future__ import annotations

import kombu.exceptions
import redis

from dockfleet.client.transport import broker_error
from dockfleet.errors import BrokerAuthError, BrokerTimeout, BrokerUnavailable

URL = "redis://localhost:6379/0"


def refused() -> redis.ConnectionError:
    error = redis.ConnectionError("Error 111 connecting to localhost:6379. Connection refused.")
    error.__cause__ = ConnectionRefusedError(111, "Connection refused")
    return error


def wrapped(error: BaseException, outer: BaseException) -> BaseException:
    outer.__cause__ = error
    return outer


def test_a_refused_default_redis_says_to_start_a_fleet() -> None:
    error = broker_error(refused(), URL)
    assert type(error) is BrokerUnavailable
    assert str(error) == (
        "cannot reach the fleet's Redis at redis://localhost:6379/0 (Connection refused): "
        "start a fleet with `dockfleet up -d`, or set DOCKFLEET_REDIS_URL"
    )


def test_a_url_someone_set_is_named_by_where_it_came_from() -> None:
    error = broker_error(refused(), "redis://ci:6379/0", "--redis-url")
    assert str(error).endswith("(Connection refused): start that Redis, or correct --redis-url")


def test_a_timeout_is_a_redis_that_did_not_answer() -> None:
    error = broker_error(redis.TimeoutError("Timeout reading from socket"), URL)
    assert type(error) is BrokerTimeout
    assert str(error).startswith("Redis at redis://localhost:6379/0 did not answer within 5s: ")


def test_a_refused_password_is_named_and_never_shown() -> None:
    url = "redis://:hunter2@r:6379/0"
    error = broker_error(redis.AuthenticationError("invalid username-password pair"), url)
    assert type(error) is BrokerAuthError
    assert str(error) == (
        "Redis at redis://:***@r:6379/0 refused the password: check DOCKFLEET_REDIS_URL"
    )


def test_a_redis_that_wants_a_password_says_where_to_give_it() -> None:
    error = broker_error(redis.AuthenticationError("NOAUTH Authentication required."), URL)
    assert str(error).startswith("Redis at redis://localhost:6379/0 wants a password: give it")
    # a password sent to a Redis that has none
    other = redis.exceptions.AuthenticationWrongNumberOfArgsError("wrong number of arguments")
    assert type(broker_error(other, "redis://:pw@r:6379/0")) is BrokerAuthError


def test_kombus_and_the_result_stores_wrapping_is_seen_through() -> None:
    published = wrapped(refused(), kombu.exceptions.OperationalError("Connection refused"))
    assert type(broker_error(published, URL)) is BrokerUnavailable
    # Celery's result store gives up with "the Celery application must be restarted"
    resubscribed = wrapped(redis.TimeoutError("Timeout"), RuntimeError("Retry limit exceeded"))
    assert type(broker_error(resubscribed, URL)) is BrokerTimeout
    # kombu's own socket error, wrapped
    socket_level = wrapped(ConnectionRefusedError(111, "Connection refused"), RuntimeError("x"))
    assert "(Connection refused)" in str(broker_error(socket_level, URL))


def test_other_errors_are_not_redis_failures() -> None:
    assert broker_error(RuntimeError("a bug"), URL) is None
    assert broker_error(redis.ResponseError("WRONGTYPE"), URL) is None
