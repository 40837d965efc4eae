"""Maintenance metrics: what cleanup and reconcile removed on each host since the start
(their totals in `dockfleet.store.maintenance_reports`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import get_args

from prometheus_client.core import CounterMetricFamily, Metric

from dockfleet.models.maintenance import ObjectKind
from dockfleet.store import maintenance_reports
from dockfleet.store.redis_types import Client


def families(client: Client, hosts: list[str]) -> Iterator[Metric]:
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
    for host, totals in maintenance_reports.totals(client, hosts).items():
        for kind in get_args(ObjectKind):
            removed.add_metric([host, kind], float(totals.removed.get(kind, 0)))
        for kind in ("container", "network"):
            reaped.add_metric([host, kind], float(totals.reaped.get(kind, 0)))
        reclaimed.add_metric([host], float(totals.bytes_reclaimed or 0))
        deadlines.add_metric([host], float(totals.deadlines or 0))
    yield from (removed, reclaimed, reaped, deadlines)
