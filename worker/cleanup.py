"""Cleanup of one host: stopped fleet containers, empty fleet networks, unused fleet images.

Only objects labelled ``dockfleet.managed=true`` (and, for containers and
networks, ``dockfleet.host=<this host>``) are considered; nothing is ever
forced, so an object that came into use since the plan was made stays. An
object of a job whose lease exists is never touched. The plan is made first
and a dry run returns it unchanged, so ``dry_run`` reports what a real run
would remove; the run report goes to the task result and to Redis.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from dockfleet import labels as fleet_labels
from dockfleet.logconfig import event
from dockfleet.models import CleanupReport, ReconcileReport, RemovedObject
from dockfleet.models.maintenance import ObjectKind
from dockfleet.store import job_leases, maintenance_reports
from worker import image_gc
from worker.ages import created_at
from worker.engine import containers as engine_containers
from worker.engine import inventory
from worker.engine import networks as engine_networks
from worker.engine.convert import engine_time
from worker.runtime import Runtime

log = logging.getLogger(__name__)

STOPPED = ["exited", "created", "dead"]
#: engine calls in flight at once while planning and removing containers
PARALLELISM = 8
KINDS: tuple[ObjectKind, ...] = ("container", "network", "image")


def run(rt: Runtime, *, dry_run: bool = False) -> CleanupReport:
    started = time.perf_counter()
    report = CleanupReport(host=rt.host, dry_run=dry_run, started_at=datetime.now(UTC))
    now = time.time()
    containers = plan_containers(rt, now)
    networks = plan_networks(rt, now, removing={c.id for c in containers})
    images = image_gc.plan(rt, now, report)
    report.removed = [*containers, *networks, *images]
    if not dry_run:
        report.removed = execute(rt, report.removed, report.errors)
    report.bytes_reclaimed = sum(r.size for r in report.removed)
    report.duration_ms = (time.perf_counter() - started) * 1000
    record(rt, "cleanup", report, counters(report))
    if report.removed or report.errors:
        event(
            log,
            "cleanup.finished",
            "cleanup of host %s %s %d objects (%d bytes)%s",
            rt.host,
            "would remove" if dry_run else "removed",
            len(report.removed),
            report.bytes_reclaimed,
            f"; kept {len(report.errors)} on errors" if report.errors else "",
            host=rt.host,
            dry_run=dry_run,
            removed=len(report.removed),
            containers=len(report.of_kind("container")),
            networks=len(report.of_kind("network")),
            images=len(report.of_kind("image")),
            bytes_reclaimed=report.bytes_reclaimed,
            errors=len(report.errors),
        )
    return report


def fleet_labels_of_host(rt: Runtime) -> list[str]:
    return [f"{fleet_labels.MANAGED}=true", f"{fleet_labels.HOST}={rt.host}"]


def plan_containers(rt: Runtime, now: float) -> list[RemovedObject]:
    """Stopped fleet containers whose stop lies further back than the grace age."""
    grace = rt.settings.cleanup.container_grace
    rows = inventory.containers(rt.docker, fleet_labels_of_host(rt), STOPPED)
    leased = job_leases.live(rt.redis, _jobs(rows))
    candidates = [
        row
        for row in rows
        if not ({(row.get("Labels") or {}).get(fleet_labels.JOB)} & leased)  # a running job's
    ]
    with ThreadPoolExecutor(PARALLELISM) as pool:
        stopped_since = list(pool.map(lambda row: _stopped_since(rt, row), candidates))
    planned = []
    for row, since in zip(candidates, stopped_since, strict=True):
        if since is None:
            continue
        age = now - since
        if age >= grace:
            planned.append(
                RemovedObject(
                    kind="container",
                    id=str(row["Id"]),
                    name=str((row.get("Names") or ["/"])[0]).lstrip("/"),
                    reason=f"stopped {age:.0f}s ago (grace {grace:g}s)",
                    job=(row.get("Labels") or {}).get(fleet_labels.JOB),
                )
            )
    return planned


def _stopped_since(rt: Runtime, row: dict[str, Any]) -> float | None:
    """When a listed container stopped (unix time); None if it runs or is gone."""
    if row.get("State") == "created":
        return float(row.get("Created", 0))  # never started: its age is its creation's
    try:
        doc = engine_containers.inspect_raw(rt.docker, str(row["Id"]))
    except Exception:  # gone since the listing: nothing to clean
        return None
    state = doc.get("State") or {}
    if state.get("Running") or state.get("Restarting"):
        return None
    since = engine_time(state.get("FinishedAt")) or engine_time(doc.get("Created"))
    return since.timestamp() if since else None


def plan_networks(rt: Runtime, now: float, removing: set[str]) -> list[RemovedObject]:
    """Fleet networks that no container (but those being removed) uses, past the grace age."""
    grace = rt.settings.cleanup.network_grace
    rows = inventory.networks(rt.docker, fleet_labels_of_host(rt))
    leased = job_leases.live(rt.redis, _jobs(rows))
    planned = []
    for row in rows:
        labels = row.get("Labels") or {}
        if labels.get(fleet_labels.JOB) in leased or labels.get(fleet_labels.POOL):
            continue  # a running job's, or idle in the warm pool by design
        network_id = str(row["Id"])
        if network_users(rt, network_id) - removing:
            continue
        age = now - created_at(labels, row.get("Created"))
        if age >= grace:
            planned.append(
                RemovedObject(
                    kind="network",
                    id=network_id,
                    name=str(row.get("Name", "")),
                    reason=f"unused, {age:.0f}s old (grace {grace:g}s)",
                    job=labels.get(fleet_labels.JOB),
                )
            )
    return planned


def network_users(rt: Runtime, network_id: str) -> set[str]:
    """Containers attached to a network, running or not (a stopped one would fail to start)."""
    rows = rt.docker.api.containers(all=True, filters={"network": network_id})
    attached = set((engine_networks.inspect(rt.docker, network_id).get("Containers") or {}).keys())
    return {str(r["Id"]) for r in rows} | attached


def execute(rt: Runtime, planned: list[RemovedObject], errors: list[str]) -> list[RemovedObject]:
    """Remove what was planned, in order (containers, networks, images); returns what went.

    Containers go in parallel (the engine removes them independently); networks only
    once their containers are gone, images last.
    """
    containers = [item for item in planned if item.kind == "container"]
    with ThreadPoolExecutor(PARALLELISM) as pool:
        removed = list(pool.map(lambda item: _remove(rt, item, errors), containers))
    done = [item for item, ok in zip(containers, removed, strict=True) if ok]
    return done + [
        item for item in planned if item.kind != "container" and _remove(rt, item, errors)
    ]


def _remove(rt: Runtime, item: RemovedObject, errors: list[str]) -> bool:
    try:
        if item.kind == "container":
            engine_containers.remove(rt.docker, item.id, force=False, volumes=True)
        elif item.kind == "network":
            engine_networks.remove(rt.docker, item.id)
        else:
            image_gc.remove(rt, item)
    except Exception as exc:  # came into use since the plan: leave it, say why
        errors.append(f"{item.kind} {item.name or item.id[:12]}: {exc}")
        log.info("cleanup of %s %s skipped: %s", item.kind, item.id[:12], exc)
        return False
    return True


def record(
    rt: Runtime,
    kind: maintenance_reports.Kind,
    report: CleanupReport | ReconcileReport,
    added: maintenance_reports.Totals,
) -> None:
    """The report into the host's capped report stream; `added` into the totals."""
    keep = rt.settings.retention.maintenance_reports
    maintenance_reports.record(rt.redis, kind, report, added, keep)


def counters(report: CleanupReport) -> maintenance_reports.Totals:
    """What a cleanup run adds to the host's totals (the exporter's counters)."""
    removed: dict[str, int] = {kind: len(report.of_kind(kind)) for kind in KINDS}
    return maintenance_reports.Totals(removed=removed, bytes_reclaimed=report.bytes_reclaimed)


def _jobs(rows: Iterable[dict[str, Any]]) -> set[str]:
    return {j for r in rows if (j := (r.get("Labels") or {}).get(fleet_labels.JOB))}
