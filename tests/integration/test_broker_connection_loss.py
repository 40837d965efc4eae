"""The broker transport survives the teardown Celery gives a connection Redis dropped.

What killed a worker's consumer for good under the Redis-crash chaos test
(see `worker.process.broker`): a message delivered and not yet acknowledged (a job
running, late ack), Redis killed, and Celery's teardown of the lost
connection reaching `Connection.close()` with the channel still open but the
transport's client already cleared by `Connection.collect()`. The worker log
of that run shows this exact state; it is set up here with kombu's own calls,
against a real Redis, and the close must end as a lost connection's does.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import redis
from kombu import Connection, Consumer, Producer, Queue
from kombu.common import ignore_errors

from dockfleet.store.broker_messages import UNACKED_KEY
from tests.conftest import random_name
from tests.support.services import RedisServer
from worker.process.broker import Channel


def test_closing_a_lost_connection_whose_transport_is_cleared_keeps_the_consumer_alive(
    persistent_redis: RedisServer,
) -> None:
    # Given a consumer holding one delivered, unacknowledged message
    queue = Queue(random_name("lost"))
    connection = Connection(persistent_redis.url, transport="worker.process.broker:Transport")
    channel = connection.default_channel
    assert isinstance(channel, Channel)
    Producer(channel).publish({"job": 1}, routing_key=queue.name, declare=[queue])
    delivered: list[Any] = []
    consumer = Consumer(channel, [queue], callbacks=[lambda body, msg: delivered.append(body)])
    consumer.consume()
    connection.drain_events(timeout=5)
    assert delivered == [{"job": 1}]

    # When Redis dies, and the teardown reaches close() with the channel still open and
    # the transport's client cleared (what collect() leaves when its own close is cut short)
    persistent_redis.kill()
    connection._do_close_transport()
    # Then the close fails as a lost connection does, which Celery recovers from by
    # reconnecting (before: AttributeError, "Unrecoverable error", a consumer gone)
    with pytest.raises(redis.ConnectionError):
        channel.close()
    ignore_errors(connection, connection.close)

    # And the message is still in Redis, unacknowledged, for the broker to give out again
    persistent_redis.start()
    client = redis.Redis.from_url(persistent_redis.url, decode_responses=True)
    try:
        unacked = [json.loads(raw)[0] for raw in client.hvals(UNACKED_KEY)]
        assert [json.loads(base64.b64decode(m["body"])) for m in unacked] == [{"job": 1}]
    finally:
        client.close()
