"""Cleanup of one host: stopped fleet containers, empty fleet networks, unused fleet images,
job caches, and expired job artifacts (of the worker that runs it: `worker.jobs.artifact_folder`).

Only objects labelled ``dockfleet.managed=true`` (and, for containers and
networks, ``dockfleet.host=<this host>``) are considered; nothing is ever
forced, so an object that came into use since the plan was made stays. An
object of a job whose lease exists is never touched. The plan is made first
and a dry run returns it unchanged, so ``dry_run`` reports what a real run
would remove; the run report goes to the task result and to Redis.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import get_args

from dockfleet import labels as fleet_labels
from dockfleet.models import CleanupReport, RemovedObject
from dockfleet.models.maintenance import ObjectKind
from dockfleet.store import job_leases, maintenance_reports
from worker.engine import containers as engine_containers
from worker.engine import inventory
from worker.engine import networks as engine_networks
from worker.engine.objects import ContainerSummary
from worker.jobs import artifact_folder
from worker.maintenance import cache_gc, image_gc, runs
from worker.maintenance.ages import created_at
from worker.runtime import Runtime

log = logging.getLogger(__name__)

STOPPED = ["exited", "created", "dead"]
#: engine calls in flight at once while planning and removing containers
PARALLELISM = 8
#: every kind a cleanup run removes (artifacts too), each counted in the host's totals
KINDS: tuple[ObjectKind, ...] = get_args(ObjectKind)


def run(rt: Runtime, *, dry_run: bool = False) -> CleanupReport:
    report = CleanupReport(host=rt.host, dry_run=dry_run, started_at=datetime.now(UTC))
    with runs.timed(report) as now:
        containers = plan_containers(rt, now)
        networks = plan_networks(rt, now, removing={c.id for c in containers})
        images = image_gc.plan(rt, now, report)
        caches = cache_gc.plan(rt, now, report, images)
        report.removed = [*containers, *networks, *images, *caches]
        if not dry_run:
            report.removed = execute(rt, report.removed, report.errors)
        report.removed += expired_artifacts(rt, dry_run)
        report.bytes_reclaimed = sum(r.size for r in report.removed)
    runs.record(rt, "cleanup", report, counters(report))
    runs.log_finished(
        "cleanup",
        log,
        report,
        "cleanup of host {host} {_action} {removed} objects ({bytes_reclaimed} bytes){_kept}",
        _kept=f"; kept {len(report.errors)} on errors" if report.errors else "",
        containers=len(report.of_kind("container")),
        networks=len(report.of_kind("network")),
        images=len(report.of_kind("image")),
        caches=len(report.of_kind("cache")),
        bytes_reclaimed=report.bytes_reclaimed,
    )
    return report


def plan_containers(rt: Runtime, now: float) -> list[RemovedObject]:
    """Stopped fleet containers whose stop lies further back than the grace age."""
    grace = rt.settings.cleanup.container_grace
    listed = inventory.containers(rt.docker, runs.fleet_labels_of_host(rt), STOPPED)
    leased = job_leases.live(rt.redis, _jobs(c.labels for c in listed))
    candidates = [c for c in listed if c.job is None or c.job not in leased]  # a running job's
    with ThreadPoolExecutor(PARALLELISM) as pool:
        stopped_since = list(pool.map(lambda c: _stopped_since(rt, c), candidates))
    plan = []
    for container, since in zip(candidates, stopped_since, strict=True):
        if since is None:
            continue
        age = now - since
        if age >= grace:
            reason = f"stopped {age:.0f}s ago (grace {grace:g}s)"
            plan.append(runs.planned("container", container, reason, container.job))
    return plan


def _stopped_since(rt: Runtime, container: ContainerSummary) -> float | None:
    """When a listed container stopped (unix time); None if it runs or is gone."""
    if container.state == "created":
        return container.created  # never started: its age is its creation's
    try:
        state = engine_containers.inspect_state(rt.docker, container.id)
    except Exception:  # gone since the listing: nothing to clean
        return None
    if state.running or state.restarting:
        return None
    since = state.finished_at or state.created
    return since.timestamp() if since else None


def plan_networks(rt: Runtime, now: float, removing: set[str]) -> list[RemovedObject]:
    """Fleet networks that no container (but those being removed) uses, past the grace age."""
    grace = rt.settings.cleanup.network_grace
    listed = engine_networks.list_networks(
        rt.docker, rt.host, {"label": runs.fleet_labels_of_host(rt)}
    )
    leased = job_leases.live(rt.redis, _jobs(n.labels for n in listed))
    plan = []
    for network in listed:
        labels = network.labels
        if labels.get(fleet_labels.JOB) in leased or labels.get(fleet_labels.POOL):
            continue  # a running job's, or idle in the warm pool by design
        if inventory.network_users(rt.docker, network.id) - removing:
            continue
        created = network.created.timestamp() if network.created else None
        age = now - created_at(labels, created)
        if age >= grace:
            reason = f"unused, {age:.0f}s old (grace {grace:g}s)"
            plan.append(runs.planned("network", network, reason, labels.get(fleet_labels.JOB)))
    return plan


def execute(rt: Runtime, plan: list[RemovedObject], errors: list[str]) -> list[RemovedObject]:
    """Remove what was planned, in order (containers, networks, images, caches); returns
    what went.

    Containers go in parallel (the engine removes them independently); networks only
    once their containers are gone, images and caches last.
    """
    containers = [item for item in plan if item.kind == "container"]
    with ThreadPoolExecutor(PARALLELISM) as pool:
        gone = list(pool.map(lambda item: _remove(rt, item, errors), containers))
    done = [item for item, ok in zip(containers, gone, strict=True) if ok]
    return done + [item for item in plan if item.kind != "container" and _remove(rt, item, errors)]


def _remove(rt: Runtime, item: RemovedObject, errors: list[str]) -> bool:
    return runs.removed("cleanup", log, item, errors, partial(_remove_unforced, rt, item))


def _remove_unforced(rt: Runtime, item: RemovedObject) -> None:
    if item.kind == "container":
        engine_containers.remove(rt.docker, item.id, force=False, volumes=True)
    elif item.kind == "network":
        engine_networks.remove_network(rt.docker, item.id)
    elif item.kind == "cache":
        cache_gc.remove(rt, item)
    else:
        image_gc.remove(rt, item)


def expired_artifacts(rt: Runtime, dry_run: bool) -> list[RemovedObject]:
    """The job artifacts of this worker's folder past ``artifact_ttl``, removed (unless
    `dry_run`); a failure is the run's error, never its end."""
    try:
        gone = artifact_folder.expire(rt, dry_run=dry_run)
    except OSError as exc:
        log.warning("cleanup of host %s: artifacts folder: %s", rt.host, exc)
        return []
    return [
        RemovedObject(kind="artifacts", id=name, name=name, reason="expired", size=size)
        for name, size in gone
    ]


def counters(report: CleanupReport) -> maintenance_reports.Totals:
    """What a cleanup run adds to the host's totals (the exporter's counters)."""
    by_kind: dict[str, int] = {kind: len(report.of_kind(kind)) for kind in KINDS}
    return maintenance_reports.Totals(removed=by_kind, bytes_reclaimed=report.bytes_reclaimed)


def _jobs(labelled: Iterable[dict[str, str]]) -> set[str]:
    """The jobs named by objects' labels."""
    return {job for labels in labelled if (job := labels.get(fleet_labels.JOB))}
