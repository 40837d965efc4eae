"""Host metrics: whether each host is up, how full it is, and the queues' depth.

Liveness and the engine's facts come from the host registry (the workers'
heartbeats, `dockfleet.store.host_records`); the host's capacity is the
``max_containers`` its workers beat, and its use the fleet containers, in any
state, that its state cache holds (what ``max_containers`` counts), shown only
while that cache is live (as for a listing, `dockfleet.client.state_cache`).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from dockfleet.client.state_cache import LIVE_INTERVALS
from dockfleet.models import HostStatus
from dockfleet.queues import MAINTENANCE_QUEUE, SHARED_QUEUE, host_queue
from dockfleet.store import container_cache, host_records, queue_depth
from dockfleet.store.redis_types import Client


def families(client: Client, hosts: list[HostStatus], resync_interval: float) -> Iterator[Metric]:
    def gauge(name: str, doc: str) -> GaugeMetricFamily:
        return GaugeMetricFamily(f"dockfleet_host_{name}", doc, labels=["host"])

    up = gauge("up", "1 if the host is up: a recent heartbeat, and its engine answers")
    running = gauge("containers_running", "Running containers on the engine (any, not only ours)")
    disk = gauge("disk_used_ratio", "Used share of the data-root disk")
    limit = gauge("max_containers", "Fleet containers the host may hold (its max_containers)")
    used = gauge("fleet_containers", "Fleet containers the host holds, in any state")
    for h in hosts:
        up.add_metric([h.name], 1.0 if h.up else 0.0)
        running.add_metric([h.name], h.containers_running)
        if h.disk_percent is not None:
            disk.add_metric([h.name], h.disk_percent / 100.0)
    names = [h.name for h in hosts]
    for name, n in host_records.max_containers(client, names).items():
        limit.add_metric([name], float(n))
    for name, n in container_cache.counts(client, names, LIVE_INTERVALS * resync_interval).items():
        used.add_metric([name], float(n))
    yield from (up, running, disk, limit, used, _queues(client, names))


def _queues(client: Client, hosts: list[str]) -> Metric:
    depth = GaugeMetricFamily(
        "dockfleet_queue_depth", "Messages waiting in a queue", labels=["queue"]
    )
    queues = [SHARED_QUEUE, MAINTENANCE_QUEUE, *(host_queue(h) for h in hosts)]
    for queue, waiting in queue_depth.depths(client, queues).items():
        depth.add_metric([queue], waiting)
    return depth
