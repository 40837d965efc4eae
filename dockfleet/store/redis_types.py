"""The Redis names code outside the store needs: the client it passes along, the errors it catches.

Outside `dockfleet.store` (and the broker transport's setup) nothing imports
redis; a module that holds a client or catches a failure takes these names.
"""

from __future__ import annotations

import redis
import redis.exceptions

#: a connection to the fleet's Redis (or a pipeline of one)
Client = redis.Redis
#: any failure of a Redis command: unreachable, refused, timed out, a bad reply
StoreError = redis.exceptions.RedisError
#: the connection to Redis was lost or could not be made
ConnectionLost = redis.exceptions.ConnectionError
#: Redis took the connection but did not answer in time
TimedOut = redis.exceptions.TimeoutError
#: Redis refused the password (a kind of `ConnectionLost`)
AuthRefused = redis.exceptions.AuthenticationError
#: Redis answered with an error reply (a wrong command, a missing permission...)
ErrorReply = redis.exceptions.ResponseError
