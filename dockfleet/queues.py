"""Queue and task names (contract): the only place that spells them."""

from __future__ import annotations

#: jobs any healthy host may take
SHARED_QUEUE = "dockfleet.jobs"
HOST_QUEUE_PREFIX = "dockfleet.host."
#: beat's dispatch ticks: every worker consumes it, away from long jobs in the shared queue
MAINTENANCE_QUEUE = "dockfleet.maintenance"
#: kombu's Redis transport keeps each priority step of a queue in its own list (its
#: defaults; the fleet does not change them)
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (0, 3, 6, 9)


def host_queue(host: str) -> str:
    """The queue of the workers bound to Docker host `host`."""
    return HOST_QUEUE_PREFIX + host


def job_queue(target_host: str | None) -> str:
    """Where a job is sent: its target host's queue, else the shared one."""
    return host_queue(target_host) if target_host else SHARED_QUEUE


class TaskNames:
    """Stable task names; producers send by name and never import `tasks`."""

    CREATE = "dockfleet.containers.create"
    START = "dockfleet.containers.start"
    STOP = "dockfleet.containers.stop"
    RESTART = "dockfleet.containers.restart"
    KILL = "dockfleet.containers.kill"
    REMOVE = "dockfleet.containers.remove"
    WAIT = "dockfleet.containers.wait"
    LOGS = "dockfleet.containers.logs"
    STATS = "dockfleet.containers.stats"
    INSPECT = "dockfleet.containers.inspect"
    LIST = "dockfleet.containers.list"
    BATCH = "dockfleet.containers.batch"

    IMAGE_PULL = "dockfleet.images.pull"
    IMAGE_BUILD = "dockfleet.images.build"
    IMAGE_REMOVE = "dockfleet.images.remove"
    IMAGE_LIST = "dockfleet.images.list"
    IMAGE_TAG = "dockfleet.images.tag"
    IMAGE_PUSH = "dockfleet.images.push"

    NETWORK_CREATE = "dockfleet.networks.create"
    NETWORK_REMOVE = "dockfleet.networks.remove"
    NETWORK_CONNECT = "dockfleet.networks.connect"
    NETWORK_DISCONNECT = "dockfleet.networks.disconnect"
    NETWORK_LIST = "dockfleet.networks.list"
    NETWORK_INSPECT = "dockfleet.networks.inspect"

    INFO = "dockfleet.system.info"
    PING = "dockfleet.system.ping"
    DF = "dockfleet.system.df"

    CACHE_LIST = "dockfleet.caches.list"
    CACHE_REMOVE = "dockfleet.caches.remove"

    JOB_RUN = "dockfleet.jobs.run"
    JOB_CANCEL = "dockfleet.jobs.cancel"
    #: the worker holding a job's artifacts streams them to a client (`dockfleet artifacts`)
    JOB_ARTIFACTS = "dockfleet.jobs.artifacts"

    MAINTENANCE_DISPATCH = "dockfleet.maintenance.dispatch"
    SAMPLE_STATS = "dockfleet.maintenance.sample_stats"
    CLEANUP = "dockfleet.maintenance.cleanup"
    RECONCILE = "dockfleet.maintenance.reconcile"


def priority_lists(queue: str) -> list[str]:
    """The Redis lists the broker keeps `queue`'s messages in, one per priority step."""
    return [f"{queue}{PRIORITY_SEPARATOR}{step}" if step else queue for step in PRIORITY_STEPS]
