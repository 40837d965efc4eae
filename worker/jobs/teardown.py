"""Teardown: a job's artifacts copied out, then its containers and network removed, once
its outcome is stored.

A job kept for debugging (`keep_on_failure`) keeps everything; reconcile
removes what a crash left behind.
"""

from __future__ import annotations

import logging

from dockfleet import labels as fleet_labels
from dockfleet.errors import NetworkNotFound
from dockfleet.models.jobs import JobResult
from dockfleet.names import object_name
from dockfleet.store import job_records
from worker.engine import containers as engine
from worker.engine import networks
from worker.jobs import artifacts, netpool
from worker.jobs.job_run import JobRun
from worker.ops import container_ops
from worker.runtime import Runtime

log = logging.getLogger(__name__)


def cleanup(run: JobRun, result: JobResult) -> JobResult:
    """Copy the job's artifacts out of its stopped container, then remove every container
    and the network of the job (unless kept for debugging); the result, with the artifacts.
    """
    result = artifacts.collect(run, result)
    if run.spec.keep_on_failure and result.status != "succeeded":
        return result
    # A first run knows its network; a rerun looks it up (it may have none of its own).
    known = run.fresh or run.network is not None
    # A first run whose job ran to its exit knows every container it made; any other
    # (an error mid-create may hide one the engine made) lists the job's by label.
    made = run.created if run.fresh and result.status in ("succeeded", "failed") else None
    try:
        remove_job_objects(run.rt, run.job_id, run.network, look_up=not known, made=made)
    except Exception:  # reconcile removes what is left; the result is already safe
        log.warning("cleanup of job %s incomplete", run.job_id, exc_info=True)
    return result


def remove_job_objects(
    rt: Runtime,
    job_id: str,
    network: str | None = None,
    *,
    look_up: bool = True,
    made: list[tuple[str, str]] | None = None,
) -> None:
    """Remove the job's containers, then give back or remove its network: the one given,
    or with `look_up` the one it had.

    The containers are the (id, name) pairs `made`, when the caller knows them all;
    otherwise they are found by label (a crash may have left any).
    """
    if made is not None:
        for container_id, name in reversed(made):  # the job first, then its services
            container_ops.remove_made(rt, container_id, name, job_id)
    else:
        selector = [f"{fleet_labels.JOB}={job_id}", f"{fleet_labels.HOST}={rt.host}"]
        for summary in engine.summaries(rt.docker, {"label": selector}):
            container_ops.remove_summary(rt, summary)
    if look_up:
        network = job_records.network(rt.redis, job_id) or object_name(job_id)
    if network is None:
        return
    if netpool.is_pooled(network):
        netpool.give_back(rt, network)
        return
    try:
        labels = networks.inspect_network(rt.docker, network, rt.host).labels
    except NetworkNotFound:
        return
    if labels.get(fleet_labels.JOB) == job_id:  # never a user's own network
        networks.remove_network(rt.docker, network)
