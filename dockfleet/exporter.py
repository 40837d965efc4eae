"""Prometheus metrics of the fleet, read from Redis at each scrape (``dockfleet exporter``).

Nothing is kept in the exporter: each scrape reads the host registry, the
queues, the job counters, the usage totals, the latest stats views and the
maintenance totals. Every counter lives in Redis, written by the code that
makes it happen (a job's end is counted in the transaction that stores its
result), so an exporter restart, or two exporters, show the same counts.

Series are per host, per job status, per queue: never per container or per job.
A CI fleet makes containers per job, and a series per container id is a new
series per job that Prometheus keeps long after the job (hours in its head
block, its whole retention in its index), even though the exporter stops showing
it at once; so the exporter has none (`dockfleet.metrics.containers`), and the
number of series stays the same however many jobs run. The families are built
in `dockfleet.metrics`; every metric is listed in docs/metrics.md.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import Metric

from dockfleet.metrics import containers, hosts, jobs, maintenance
from dockfleet.redis_client import connect
from dockfleet.settings import Settings
from dockfleet.store.host_records import read_hosts
from dockfleet.store.redis_types import Client


class FleetCollector:
    """A custom collector: every scrape is a fresh read of Redis."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self.redis = client
        self.settings = settings

    def describe(self) -> list[Metric]:
        return []  # dynamic: nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        listed = read_hosts(self.redis, self.settings.heartbeat_interval)
        names = [h.name for h in listed]
        yield from hosts.families(self.redis, listed, self.settings.state_resync_interval)
        yield from jobs.families(self.redis, names)
        yield from containers.families(self.redis, names, self.settings.stats_interval)
        yield from maintenance.families(self.redis, names)


def registry(settings: Settings) -> CollectorRegistry:
    client = connect(settings)
    made = CollectorRegistry(auto_describe=False)
    made.register(FleetCollector(client, settings))
    return made


def serve(settings: Settings, port: int, address: str = "0.0.0.0") -> None:
    """Serve ``/metrics`` on `address`:`port` until the process is stopped."""
    start_http_server(port, addr=address, registry=registry(settings))
    threading.Event().wait()
