"""Reconcile one host: reap orphaned job objects and containers past their deadline.

An object labelled ``dockfleet.job=<id>`` is an orphan candidate while no
worker holds that job's lease (finished, unknown, or its worker died and
nobody adopted it). It is reaped once it has stayed a candidate for
``cleanup.orphan_grace`` seconds; the clock (when it was first seen) lives
in Redis, so a restart of any process neither resets nor loses it. An
object whose lease exists is never touched, and its clock is cleared.

A container labelled ``dockfleet.deadline`` (its ``max_lifetime``) is stopped
and removed once the deadline has passed, job or not.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import partial
from typing import Literal, NamedTuple

from dockfleet import labels as fleet_labels
from dockfleet.models import ReconcileReport, RemovedObject
from dockfleet.store import job_leases, job_records, maintenance_reports, orphan_suspects
from worker.engine import containers as engine_containers
from worker.engine import inventory
from worker.engine import networks as engine_networks
from worker.maintenance import runs
from worker.runtime import Runtime

log = logging.getLogger(__name__)

#: seconds a container past its deadline gets between SIGTERM and SIGKILL
DEADLINE_STOP_GRACE = 10


def run(rt: Runtime, *, dry_run: bool = False) -> ReconcileReport:
    report = ReconcileReport(host=rt.host, dry_run=dry_run, started_at=datetime.now(UTC))
    with runs.timed(report) as now:
        containers = [
            FleetObject("container", c.id, c.name, c.labels)
            for c in inventory.containers(rt.docker, runs.fleet_labels_of_host(rt))
        ]
        networks = [
            FleetObject("network", n.id, n.name, n.labels)
            for n in engine_networks.list_networks(
                rt.docker, rt.host, {"label": [*runs.fleet_labels_of_host(rt), fleet_labels.JOB]}
            )
        ]
        expired = past_deadline(containers, now)
        expired_ids = {e.id for e in expired}
        job_objects = [c for c in containers if c.id not in expired_ids] + networks
        orphans, report.suspects = find_orphans(rt, job_objects, now)
        report.removed = [*expired, *orphans]
        if not dry_run:
            report.removed = _execute(rt, report.removed, expired_ids, report.errors)
    gone = report.removed
    counts = maintenance_reports.Totals(
        reaped={
            "container": sum(r.kind == "container" and r.id not in expired_ids for r in gone),
            "network": sum(r.kind == "network" for r in gone),
        },
        deadlines=sum(r.id in expired_ids for r in gone),
    )
    runs.record(rt, "reconcile", report, counts)
    runs.log_finished(
        "reconcile",
        log,
        report,
        "reconcile of host {host} {_action} {removed} objects of dead or overdue jobs",
        **counts.fields(),
    )
    return report


class FleetObject(NamedTuple):
    """A container or a network of the fleet on this host, as listed."""

    kind: Literal["container", "network"]
    id: str
    name: str
    labels: dict[str, str]


def past_deadline(containers: list[FleetObject], now: float) -> list[RemovedObject]:
    expired = []
    for container in containers:
        labels = container.labels
        deadline = _parse(labels.get(fleet_labels.DEADLINE))
        if deadline is not None and deadline <= now:
            reason = f"max lifetime ended {now - deadline:.0f}s ago"
            expired.append(
                runs.planned("container", container, reason, labels.get(fleet_labels.JOB))
            )
    return expired


def find_orphans(
    rt: Runtime, objects: list[FleetObject], now: float
) -> tuple[list[RemovedObject], int]:
    """Job objects without a lease for longer than the grace; and how many still wait."""
    grace = rt.settings.cleanup.orphan_grace
    by_job = [(o, o.labels.get(fleet_labels.JOB)) for o in objects]
    with_job = [(o, job) for o, job in by_job if job]
    jobs = {job for _, job in with_job}
    leased = job_leases.live(rt.redis, jobs)
    job_states = job_records.states(rt.redis, jobs - leased)
    # A running job of this host without a lease is adoption's to finish (see
    # worker.jobs.adoption), not ours to reap: its containers hold its exit code and log.
    adoptable = set(job_records.on_host(rt.redis, rt.host))
    leased |= {job for job, state in job_states.items() if state == "running" and job in adoptable}
    # object id -> when it was first seen without a lease
    seen = orphan_suspects.first_seen(rt.redis, rt.host)
    orphans, new_suspects, waiting = [], {}, 0
    for fleet_object, job in with_job:
        object_id = fleet_object.id
        if job in leased:
            continue
        first = seen.get(object_id)
        if first is None:
            new_suspects[object_id] = now
            first = now
        if now - first >= grace:
            state = job_states.get(job, "unknown")
            reason = (
                f"job {job} is {state} and nobody holds its lease "
                f"(for {now - first:.0f}s, grace {grace:g}s)"
            )
            orphans.append(runs.planned(fleet_object.kind, fleet_object, reason, job))
        else:
            waiting += 1
    current = {o.id for o, job in with_job if job not in leased}
    stale = [object_id for object_id in seen if object_id not in current]
    orphan_suspects.update(rt.redis, rt.host, new_suspects, stale)
    # Containers first, then networks: a job's network is free once its containers are gone.
    orphans.sort(key=lambda o: o.kind != "container")
    return orphans, waiting


def _execute(
    rt: Runtime, plan: list[RemovedObject], expired: set[str], errors: list[str]
) -> list[RemovedObject]:
    done = []
    for item in plan:
        remove = partial(_remove, rt, item, item.id in expired)
        if runs.removed("reconcile", log, item, errors, remove):
            orphan_suspects.clear(rt.redis, rt.host, item.id)
            done.append(item)
    return done


def _remove(rt: Runtime, item: RemovedObject, overdue: bool) -> None:
    if item.kind == "network":
        engine_networks.remove_network(rt.docker, item.id)
        return
    if overdue:
        _stop(rt, item.id)
    engine_containers.remove(rt.docker, item.id, force=True, volumes=True)


def _stop(rt: Runtime, container_id: str) -> None:
    try:
        engine_containers.stop(rt.docker, container_id, DEADLINE_STOP_GRACE)
    except Exception as exc:  # already stopped or gone: removal decides
        log.debug("stop of %s before removal: %s", container_id[:12], exc)


def _parse(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None
