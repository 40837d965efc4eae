"""What the fleet's containers use on each host: CPU seconds, memory and I/O bytes.

No series per container: a CI fleet starts a container or more per job, and a
series per container id is a new series per job that Prometheus keeps (in its
head block for hours, in its index for its whole retention) long after the job
is gone, even though the exporter stops showing it at once. So the series are
per host, as many as there are hosts, whatever the number of jobs. A job's own
use is in its result (`JobResult.cpu_seconds`, ``peak_memory``) and in
``dockfleet_job_cpu_seconds_total``; a live view of each container is
``dockfleet stats``.

The counters are the host's usage totals (`dockfleet.store.usage_totals`), which
the stats sweeps add to; memory is the sum of the latest fresh samples.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from dockfleet.store import stats_history, usage_totals
from dockfleet.store.redis_types import Client

#: (counter in the totals, metric name, help, factor to the metric's unit)
_COUNTERS = (
    ("cpu_total_ns", "cpu_seconds", "CPU time of the fleet's containers", 1e-9),
    ("network_rx", "network_receive_bytes", "Bytes the fleet's containers received", 1.0),
    ("network_tx", "network_transmit_bytes", "Bytes the fleet's containers sent", 1.0),
    ("disk_read", "block_read_bytes", "Bytes the fleet's containers read from disks", 1.0),
    ("disk_write", "block_write_bytes", "Bytes the fleet's containers wrote to disks", 1.0),
)


def families(client: Client, hosts: list[str], stats_interval: float) -> Iterator[Metric]:
    totals = usage_totals.totals(client, hosts)
    for counter, name, doc, factor in _COUNTERS:
        family = CounterMetricFamily(
            f"dockfleet_container_{name}", f"{doc}, sampled by the stats sweeps", labels=["host"]
        )
        for host, counts in totals.items():
            family.add_metric([host], counts[counter] * factor)
        yield family
    memory = GaugeMetricFamily(
        "dockfleet_container_memory_usage_bytes",
        "Memory the host's running fleet containers use (page cache excluded)",
        labels=["host"],
    )
    used = dict.fromkeys(hosts, 0)
    for sample in stats_history.latest(client, hosts):
        if stats_history.is_fresh(sample, stats_interval):  # else its host stopped sweeping
            used[sample.host] += sample.memory_usage
    for host, bytes_used in used.items():
        memory.add_metric([host], float(bytes_used))
    yield memory
