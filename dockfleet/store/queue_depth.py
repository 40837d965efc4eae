"""How many messages wait in each queue, read straight from the broker's Redis lists.

The lists are Kombu's (one per priority step, named by `dockfleet.queues`);
the fleet only reads their lengths, for the exporter and the consumer watchdog.
"""

from __future__ import annotations

import redis

from dockfleet.queues import priority_lists


def depths(client: redis.Redis, queues: list[str]) -> dict[str, int]:
    """Messages waiting in each of `queues` (every priority step counted), in one round trip."""
    lists = {queue: priority_lists(queue) for queue in queues}
    pipe = client.pipeline(transaction=False)
    for names in lists.values():
        for name in names:
            pipe.llen(name)
    lengths = iter(pipe.execute())
    return {queue: sum(int(next(lengths)) for _ in names) for queue, names in lists.items()}
