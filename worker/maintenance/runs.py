"""What a cleanup run and a reconcile run share, so each says only what it removes and why.

Both look at the fleet's objects of this host, plan a `RemovedObject` per
object to go (all a dry run returns), remove them one by one without letting
one refusal end the run, and time the run into a report that goes to the
host's report stream and totals in Redis, and into one log line when the run
removed anything (or failed to).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from dockfleet import labels as fleet_labels
from dockfleet.logconfig import event
from dockfleet.models import CleanupReport, ReconcileReport, RemovedObject
from dockfleet.models.maintenance import ObjectKind, RunReport
from dockfleet.store import maintenance_reports
from worker.runtime import Runtime


class Listed(Protocol):
    """An object as the engine listed it: all a plan's entry names of it."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


def fleet_labels_of_host(rt: Runtime) -> list[str]:
    """The label filter of the fleet's objects on this host."""
    return [f"{fleet_labels.MANAGED}=true", f"{fleet_labels.HOST}={rt.host}"]


def planned(kind: ObjectKind, listed: Listed, reason: str, job: str | None) -> RemovedObject:
    """The plan's entry for a listed container or network."""
    return RemovedObject(kind=kind, id=listed.id, name=listed.name, reason=reason, job=job)


@contextmanager
def timed(report: RunReport) -> Iterator[float]:
    """Yields the run's clock (unix time) and sets the report's duration once it is done."""
    started = time.perf_counter()
    yield time.time()
    report.duration_ms = (time.perf_counter() - started) * 1000


def removed(
    run: maintenance_reports.Kind,
    run_log: logging.Logger,
    item: RemovedObject,
    errors: list[str],
    remove: Callable[[], None],
) -> bool:
    """Whether `remove` removed the planned `item`; a refusal (it came into use since the
    plan, say) goes into `errors` and the run's log, and the run goes on."""
    try:
        remove()
    except Exception as exc:  # the engine refused: leave it, say why
        errors.append(f"{item.kind} {item.name or item.id[:12]}: {exc}")
        run_log.info("%s of %s %s skipped: %s", run, item.kind, item.id[:12], exc)
        return False
    return True


def log_finished(
    run: maintenance_reports.Kind,
    run_log: logging.Logger,
    report: CleanupReport | ReconcileReport,
    template: str,
    **fields: Any,
) -> None:
    """The ``<run>.finished`` event of a run that removed something (or would, or failed
    to): `template` words it, over the report's counts and the run's own `fields`."""
    if not report.removed and not report.errors:
        return  # a run with nothing to do is the common case: no line for it
    event(
        run_log,
        f"{run}.finished",
        template,
        _action="would remove" if report.dry_run else "removed",
        host=report.host,
        dry_run=report.dry_run,
        removed=len(report.removed),
        **fields,
        errors=len(report.errors),
    )


def record(
    rt: Runtime,
    kind: maintenance_reports.Kind,
    report: CleanupReport | ReconcileReport,
    added: maintenance_reports.Totals,
) -> None:
    """The report into the host's capped report stream; `added` into the totals."""
    keep = rt.settings.retention.maintenance_reports
    maintenance_reports.record(rt.redis, kind, report, added, keep)
