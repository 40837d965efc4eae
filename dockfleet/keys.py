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


def job_adopting(job_id: str) -> str:
    """Short-lived marker: an adoption of this job has been sent (no double sends)."""
    return f"{PREFIX}:job:{job_id}:adopting"


def job_log(job_id: str) -> str:
    """Stream of a job's log lines, written once by whoever runs or adopts the job."""
    return f"{PREFIX}:job:{job_id}:log"


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
