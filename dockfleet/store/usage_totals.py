"""What the fleet's containers used on each host since the start: CPU time and I/O bytes.

The exporter's per-host counters (``dockfleet_container_cpu_seconds_total`` and the
I/O ``..._bytes_total``) read these totals (`totals`), so they outlive the exporter
and carry no per-container label. The stats sweep adds to them (`count_in`, called
by `stats_history.write_sweep` in the sweep's MULTI): per sampled container, how
far its cumulative counters moved since the sweep that last counted it. What was
counted of a container is kept an hour after its last sample (`keys.usage_counted`),
so a container that one sweep failed to read is not counted twice when the next one
reads it; one not counted before adds all it has used. One script does a sweep's
samples in one step (`lua/usage_count.lua`).

Sampled, so not exact: the use of a container after its last sample (at most one
stats interval) is missed, and so is all of a container that ran between two sweeps.
A job's own CPU time is exact in the job counters (`job_metrics`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import redis

from dockfleet import keys
from dockfleet.models import ContainerStats
from dockfleet.store.replies import text
from dockfleet.store.scripts import LuaScript

#: the counters totalled, by their names in `ContainerStats` (and in the totals' hash)
COUNTERS = ("cpu_total_ns", "network_rx", "network_tx", "disk_read", "disk_write")
#: what was counted of a container is kept this long after its last sample (s)
COUNTED_SECONDS = 3600
_COUNT = LuaScript("usage_count")


def count_in(client: redis.Redis, host: str, samples: Sequence[ContainerStats]) -> None:
    """Add what `samples` show used since each container was last counted (`client`: the
    sweep's pipeline, or a client)."""
    if not samples:
        return
    names = [keys.usage_totals(host), *(keys.usage_counted(host, s.id) for s in samples)]
    args: list[Any] = [COUNTED_SECONDS, len(COUNTERS), *COUNTERS]
    for sample in samples:
        args += [int(getattr(sample, counter)) for counter in COUNTERS]
    _COUNT(client, names, args)


def totals(client: redis.Redis, hosts: Iterable[str]) -> dict[str, dict[str, int]]:
    """Each host's totals (a counter never added to is 0), in one round trip."""
    listed = list(hosts)
    pipe = client.pipeline(transaction=False)
    for host in listed:
        pipe.hgetall(keys.usage_totals(host))
    found: list[dict[Any, Any]] = pipe.execute()
    return {host: _counts(raw) for host, raw in zip(listed, found, strict=True)}


def _counts(raw: dict[Any, Any]) -> dict[str, int]:
    stored = {text(k): int(text(v)) for k, v in raw.items()}
    return {counter: stored.get(counter, 0) for counter in COUNTERS}
