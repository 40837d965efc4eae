"""What a request may reach on this host: networks it joins, and containers it adopts.

Judged here, on the worker, because only the engine knows what a network
reference resolves to (a name, an id, a prefix of an id) and whose network it
is (its labels): a job's network and a pooled job network belong to the job
that holds them; a network the fleet did not make may be joined only when the
policy names it; the host's network needs ``allow_host_network`` however it is
spelled. Every refusal comes before anything is created.
"""

from __future__ import annotations

import hashlib
import json

from dockfleet import labels as fleet_labels
from dockfleet.errors import PolicyViolation
from dockfleet.models import ContainerConfig, ImageInfo, NetworkInfo
from dockfleet.names import is_reserved_label, object_name
from dockfleet.store import network_pool
from worker.engine import networks as engine_networks
from worker.engine.objects import ContainerState
from worker.runtime import Runtime

#: networks every engine has, that any container may use
PREDEFINED = ("bridge", "none")
#: every label the fleet reads on a container (so an image must not pass one on)
READ_LABELS = (
    fleet_labels.MANAGED,
    fleet_labels.HOST,
    fleet_labels.JOB,
    fleet_labels.CREATED,
    fleet_labels.REQUEST,
    fleet_labels.SECRET_ENV,
    fleet_labels.POOL,
    fleet_labels.DEADLINE,
)


def check_join(rt: Runtime, network: str | None, job: str | None) -> None:
    """Refuse a create whose container would join a network it may not.

    Args:
        job: the job the container belongs to (the runner's creates); None for a user's.
    """
    if network is None or network in ("default", *PREDEFINED):
        return  # "host" by name: `check_container` has judged it already
    if job is not None and (network == object_name(job) or _holds(rt, network, job)):
        return  # the job's own network (made or taken by its runner): no engine call
    info = engine_networks.inspect_network(rt.docker, network, rt.host)  # or NetworkNotFound
    check_network(rt, info, job, network)


def check_network(rt: Runtime, info: NetworkInfo, job: str | None, ref: str) -> None:
    """Refuse a network that belongs to another job, or that the policy does not allow.

    Args:
        job: the job that may use its own network; None for a user's request.
        ref: how the request named the network (for the error).
    """
    check_not_a_jobs(rt, info, job, ref)
    if info.labels.get(fleet_labels.JOB) or info.labels.get(fleet_labels.POOL):
        return  # this job's own
    policy = rt.settings.policy
    if info.driver == "host":
        if not policy.allow_host_network:
            raise PolicyViolation(
                "host-network",
                f"network={ref} (the host's network)",
                "set DOCKFLEET_POLICY__ALLOW_HOST_NETWORK=true",
            )
        return
    if not info.managed and info.name not in (*PREDEFINED, *policy.allowed_networks):
        raise PolicyViolation(
            "unmanaged-network",
            f"network={ref}",
            f"the fleet did not make network {info.name!r}; name it in "
            "DOCKFLEET_POLICY__ALLOWED_NETWORKS to allow it",
        )


def check_not_a_jobs(rt: Runtime, info: NetworkInfo, job: str | None, ref: str) -> None:
    """Refuse another job's network, and a pooled one that `job` does not hold."""
    owner = info.labels.get(fleet_labels.JOB)
    if owner and owner != job:
        raise PolicyViolation(
            "job-network", f"network={ref}", f"it is the private network of job {owner}"
        )
    pool = info.labels.get(fleet_labels.POOL)
    if pool and (job is None or pool != rt.host or not _holds(rt, info.name, job)):
        raise PolicyViolation(
            "job-network",
            f"network={ref}",
            "it is a pooled job network, only for the job that holds it",
        )


def check_attach(rt: Runtime, info: NetworkInfo, container: ContainerState, ref: str) -> None:
    """Refuse connecting (or disconnecting) a container the fleet did not make or that
    belongs to a job, and any job's network."""
    check_network(rt, info, None, ref)
    name = container.name or container.id[:12]
    if not container.managed:
        raise PolicyViolation(
            "unmanaged-container", f"container={name}", "the fleet acts only on what it made"
        )
    if container.job:
        raise PolicyViolation(
            "job-container",
            f"container={name}",
            f"it belongs to job {container.job}, which keeps to its own network",
        )


def request_label(config: ContainerConfig, job: str | None) -> str | None:
    """The request label of a create: its request id and a digest of what it asks for.

    A redelivered create adopts the container whose label equals its own; so one
    planted under a reused request id is adopted only if it asks for exactly the
    same (secret values aside: a digest of them would be guessable from a label
    that anyone may read).
    """
    if config.request_id is None:
        return None
    asked = config.model_dump(mode="json", exclude={"request_id"})
    text = json.dumps([asked, job], sort_keys=True, separators=(",", ":"))
    return f"{config.request_id}#{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def without_inherited(labels: dict[str, str], image: ImageInfo | None) -> dict[str, str]:
    """`labels` plus an empty value for every ``dockfleet.*`` label the image would pass on.

    A container inherits its image's labels, and anyone can build or publish an
    image that carries a forged deadline, job or request label. An image not
    inspected (None) gets every label the fleet reads blanked.
    """
    inherited = image.labels if image is not None else dict.fromkeys(READ_LABELS)
    return {**{k: "" for k in inherited if is_reserved_label(k)}, **labels}


def _holds(rt: Runtime, network: str, job: str) -> bool:
    """Whether `job` holds pooled `network` (taken from the pool for it, not given back)."""
    return network_pool.holder(rt.redis, rt.host, network) == job
