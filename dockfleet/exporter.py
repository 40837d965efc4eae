"""Prometheus metrics of the fleet, read from Redis at each scrape (``dockfleet exporter``).

Nothing is kept in the exporter: each scrape reads the host registry, the
queues, the latest stats views and the maintenance totals, so a host or a
container that is gone is simply absent from the next scrape.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from dockfleet.queues import MAINTENANCE_QUEUE, SHARED_QUEUE, host_queue
from dockfleet.redis_client import connect
from dockfleet.settings import Settings
from dockfleet.store import maintenance_reports, queue_depth, stats_history
from dockfleet.store.host_records import read_hosts
from dockfleet.store.redis_types import Client

CONTAINER_LABELS = ["host", "id", "name"]


class FleetCollector:
    """A custom collector: every scrape is a fresh read of Redis."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self.redis = client
        self.settings = settings

    def describe(self) -> list[Metric]:
        return []  # dynamic: nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        hosts = read_hosts(self.redis, self.settings.heartbeat_interval)
        yield from self._hosts(hosts)
        yield self._queues([h.name for h in hosts])
        live = [h.name for h in hosts]
        yield from self._containers(live)
        yield from self._totals(live)

    def _hosts(self, hosts: list[Any]) -> Iterator[Metric]:
        up = GaugeMetricFamily("dockfleet_host_up", "1 if the host is up", labels=["host"])
        running = GaugeMetricFamily(
            "dockfleet_host_containers_running", "Running containers", labels=["host"]
        )
        disk = GaugeMetricFamily(
            "dockfleet_host_disk_used_ratio", "Used share of the data-root disk", labels=["host"]
        )
        for h in hosts:
            up.add_metric([h.name], 1.0 if h.up else 0.0)
            running.add_metric([h.name], h.containers_running)
            if h.disk_percent is not None:
                disk.add_metric([h.name], h.disk_percent / 100.0)
        yield from (up, running, disk)

    def _queues(self, hosts: list[str]) -> Metric:
        depth = GaugeMetricFamily(
            "dockfleet_queue_depth", "Messages waiting in a queue", labels=["queue"]
        )
        queues = [SHARED_QUEUE, MAINTENANCE_QUEUE, *(host_queue(h) for h in hosts)]
        for queue, waiting in queue_depth.depths(self.redis, queues).items():
            depth.add_metric([queue], waiting)
        return depth

    def _containers(self, hosts: list[str]) -> Iterator[Metric]:
        def gauge(name: str, doc: str) -> GaugeMetricFamily:
            return GaugeMetricFamily(f"dockfleet_container_{name}", doc, labels=CONTAINER_LABELS)

        def counter(name: str, doc: str) -> CounterMetricFamily:
            return CounterMetricFamily(f"dockfleet_container_{name}", doc, labels=CONTAINER_LABELS)

        cpu = gauge("cpu_percent", "CPU use, percent of one core")
        memory = gauge("memory_usage_bytes", "Memory in use (page cache excluded)")
        limit = gauge("memory_limit_bytes", "Memory limit")
        pids = gauge("pids", "Processes")
        rx = counter("network_receive_bytes", "Bytes received")
        tx = counter("network_transmit_bytes", "Bytes sent")
        read = counter("block_read_bytes", "Bytes read from block devices")
        write = counter("block_write_bytes", "Bytes written to block devices")
        interval = self.settings.stats_interval
        for s in stats_history.latest(self.redis, hosts):
            if not stats_history.is_fresh(s, interval):
                continue  # its host stopped sweeping: the figure is no longer true
            labels = [s.host, s.id[:12], s.name]
            cpu.add_metric(labels, s.cpu_usage)
            memory.add_metric(labels, s.memory_usage)
            limit.add_metric(labels, s.memory_limit)
            pids.add_metric(labels, s.pids)
            rx.add_metric(labels, s.network_rx)
            tx.add_metric(labels, s.network_tx)
            read.add_metric(labels, s.disk_read)
            write.add_metric(labels, s.disk_write)
        yield from (cpu, memory, limit, pids, rx, tx, read, write)

    def _totals(self, hosts: list[str]) -> Iterator[Metric]:
        removed = CounterMetricFamily(
            "dockfleet_cleanup_removed", "Objects removed by cleanup", labels=["host", "kind"]
        )
        reclaimed = CounterMetricFamily(
            "dockfleet_cleanup_reclaimed_bytes", "Bytes reclaimed by cleanup", labels=["host"]
        )
        reaped = CounterMetricFamily(
            "dockfleet_orphans_reaped", "Orphaned job objects reaped", labels=["host", "kind"]
        )
        deadlines = CounterMetricFamily(
            "dockfleet_deadlines_enforced", "Containers removed past max lifetime", labels=["host"]
        )
        for host, totals in maintenance_reports.totals(self.redis, hosts).items():
            for kind in ("container", "network", "image"):
                removed.add_metric([host, kind], float(totals.removed.get(kind, 0)))
            for kind in ("container", "network"):
                reaped.add_metric([host, kind], float(totals.reaped.get(kind, 0)))
            reclaimed.add_metric([host], float(totals.bytes_reclaimed or 0))
            deadlines.add_metric([host], float(totals.deadlines or 0))
        yield from (removed, reclaimed, reaped, deadlines)


def registry(settings: Settings) -> CollectorRegistry:
    client = connect(settings)
    made = CollectorRegistry(auto_describe=False)
    made.register(FleetCollector(client, settings))
    return made


def serve(settings: Settings, port: int, address: str = "0.0.0.0") -> None:
    """Serve ``/metrics`` on `address`:`port` until the process is stopped."""
    start_http_server(port, addr=address, registry=registry(settings))
    threading.Event().wait()
