"""Redis key names: the only place that spells them (like arq's constants)."""

from __future__ import annotations

PREFIX = "dockfleet"

#: sorted set: host name -> last heartbeat (unix time)
HOSTS = f"{PREFIX}:hosts"


def host(name: str) -> str:
    """Hash of one host's facts, written by its workers' heartbeats."""
    return f"{PREFIX}:host:{name}"


def host_slots_lock(name: str) -> str:
    """Lock held while a container is counted and created on host `name`."""
    return f"{PREFIX}:host:{name}:slots-lock"


def locate(ref: str) -> str:
    """Set of hosts that hold a container known by `ref` (id, short id or name)."""
    return f"{PREFIX}:locate:{ref}"


def log_stream(stream_id: str) -> str:
    """Stream of log lines a logs task writes for one reader."""
    return f"{PREFIX}:logstream:{stream_id}"


def job(job_id: str) -> str:
    """Hash of one job's state: ``state`` (queued|running|finished|canceled...), ``host``,
    ``result`` (JSON of the JobResult once finished), timestamps."""
    return f"{PREFIX}:job:{job_id}"


def job_lease(job_id: str) -> str:
    """Held (with a TTL, renewed) by the worker running the job; gone = nobody runs it."""
    return f"{PREFIX}:job:{job_id}:lease"


def host_jobs(host_name: str) -> str:
    """Set of the ids of jobs running on a host: where adoption looks after a worker dies."""
    return f"{PREFIX}:host:{host_name}:jobs"


def queued_jobs(queue: str) -> str:
    """Sorted set: id of a job sent to `queue` and not yet claimed -> when it was sent."""
    return f"{PREFIX}:queued:{queue}"


def requeue_guard(queue: str) -> str:
    """Held for one sweep period by the worker looking for `queue`'s lost job messages."""
    return f"{PREFIX}:queued:{queue}:guard"


def job_adopting(job_id: str) -> str:
    """Short-lived marker: an adoption of this job has been sent (no double sends)."""
    return f"{PREFIX}:job:{job_id}:adopting"


def network_pool(host_name: str) -> str:
    """Set of idle pooled job networks of a host, ready for the next job."""
    return f"{PREFIX}:host:{host_name}:netpool"


def network_pool_prewarm(host_name: str) -> str:
    """Lock: one worker of a host tops its network pool up at a time."""
    return f"{PREFIX}:host:{host_name}:netpool:prewarm"


def network_pool_in_use(host_name: str) -> str:
    """Hash: pooled network -> the job holding it (never offered to another job meanwhile)."""
    return f"{PREFIX}:host:{host_name}:netpool:in-use"


def job_log(job_id: str) -> str:
    """Stream of a job's log lines, written once by whoever runs or adopts the job."""
    return f"{PREFIX}:job:{job_id}:log"


def state_containers(host_name: str) -> str:
    """Hash: container id -> JSON summary of each fleet container of a host (the state cache)."""
    return f"{PREFIX}:state:{host_name}:containers"


def state_versions(host_name: str) -> str:
    """Hash: container id -> version of its cached summary ("removed" once gone), so a
    summary read before a newer one never overwrites it (see `dockfleet.store.container_cache`)."""
    return f"{PREFIX}:state:{host_name}:versions"


def state_synced(host_name: str) -> str:
    """When the state cache of a host was last rewritten whole from its engine."""
    return f"{PREFIX}:state:{host_name}:synced"


def log_reader(stream_id: str) -> str:
    """Lease of the reader of a log stream; when it expires the worker stops following."""
    return f"{PREFIX}:logstream:{stream_id}:reader"


def image_pull_lock(host: str, reference: str) -> str:
    """Held while one worker pulls `reference` on `host`; others wait instead of pulling."""
    return f"{PREFIX}:host:{host}:pull:{reference}:lock"


def image_pull_done(host: str, reference: str) -> str:
    """Counter of finished pulls of `reference` on `host`: a waiter that sees it move
    knows the pull it waited for succeeded (single-flight)."""
    return f"{PREFIX}:host:{host}:pull:{reference}:done"


def build_upload(upload_id: str) -> str:
    """A build context (tar) a client uploaded for one build; deleted after it, TTL-bounded."""
    return f"{PREFIX}:upload:{upload_id}"


def transfer(transfer_id: str) -> str:
    """Hash of one streamed transfer: its state, window, how far each side got, its receiver."""
    return f"{PREFIX}:transfer:{transfer_id}"


def transfer_data(transfer_id: str) -> str:
    """Stream of a transfer's chunks sent and not yet taken (at most its window in bytes)."""
    return f"{PREFIX}:transfer:{transfer_id}:data"


def transfer_bell(transfer_id: str) -> str:
    """List of at most one element, pushed when the receiver takes chunks (the sender's wake-up)."""
    return f"{PREFIX}:transfer:{transfer_id}:bell"


def job_artifacts(job_id: str) -> str:
    """Hash of a job's stored artifacts: the host and machine holding the tar, its size,
    the listing, the missing paths; expires with them (``artifact_ttl``)."""
    return f"{PREFIX}:job:{job_id}:artifacts"


def job_artifacts_copy(job_id: str) -> str:
    """String naming a copy of a job's artifacts under way: the host, the machine and the
    part file being written (a fetch may follow it); gone when the copy ends."""
    return f"{PREFIX}:job:{job_id}:artifacts-copy"


# -- maintenance: beat, stats, cleanup, reconcile -------------------------------

#: string: the id of the beat process allowed to schedule (expires if it dies)
BEAT_LEADER = f"{PREFIX}:beat:leader"

#: capped stream: every maintenance dispatch (kind, hosts), for operators and tests
DISPATCH_LOG = f"{PREFIX}:maintenance:dispatches"

#: capped stream of every stats sample of the fleet, as written (`Fleet.stats_stream`)
STATS_FEED = f"{PREFIX}:stats:feed"


def dispatch_guard(kind: str) -> str:
    """Set for half an interval after a dispatch of `kind`: a duplicate tick is dropped."""
    return f"{PREFIX}:maintenance:dispatch:{kind}"


def stats_latest(host: str) -> str:
    """Hash: container id -> JSON of its latest sample on `host` (replaced each sweep)."""
    return f"{PREFIX}:stats:{host}:latest"


def stats_history(host: str, container_id: str) -> str:
    """Capped stream of one container's samples."""
    return f"{PREFIX}:stats:{host}:history:{container_id}"


def stats_sweep_lock(host: str) -> str:
    """Held during one host's sweep, so that two workers of a host never sweep at once."""
    return f"{PREFIX}:stats:{host}:sweep-lock"


def image_last_use(host: str) -> str:
    """Sorted set: image id -> last time the fleet ran a container of it on `host`."""
    return f"{PREFIX}:host:{host}:image-last-use"


def cache_last_use(host: str) -> str:
    """Sorted set: cache key -> last time a job mounted that cache on `host`."""
    return f"{PREFIX}:host:{host}:cache-last-use"


def maintenance_totals(host: str) -> str:
    """Hash of counters since the start: removals by kind, bytes reclaimed, orphans reaped."""
    return f"{PREFIX}:host:{host}:maintenance-totals"


def cleanup_reports(host: str) -> str:
    """Capped stream of the cleanup reports of `host` (JSON)."""
    return f"{PREFIX}:host:{host}:cleanup-reports"


def reconcile_reports(host: str) -> str:
    """Capped stream of the reconcile reports of `host` (JSON)."""
    return f"{PREFIX}:host:{host}:reconcile-reports"


def orphan_suspects(host: str) -> str:
    """Hash: object id -> when reconcile first saw it without a lease (survives restarts)."""
    return f"{PREFIX}:host:{host}:orphan-suspects"


# -- metrics: counters kept in Redis, so that they outlive the exporter ----------------


def job_metrics(host: str) -> str:
    """Hash of the counters of the jobs that ran on `host` since the start: jobs by status,
    their durations and queue waits (histogram buckets and sums), their CPU seconds."""
    return f"{PREFIX}:metrics:jobs:{host}"


#: set: every host that has job counters (a host gone from the registry keeps its counts)
JOB_METRICS_HOSTS = f"{PREFIX}:metrics:job-hosts"


def usage_totals(host: str) -> str:
    """Hash of counters since the start: CPU ns and I/O bytes of the fleet's containers on
    `host`, summed from the stats sweeps."""
    return f"{PREFIX}:host:{host}:usage-totals"


def usage_counted(host: str, container_id: str) -> str:
    """How much of one container's cumulative counters the totals hold already (short TTL)."""
    return f"{PREFIX}:stats:{host}:counted:{container_id}"
