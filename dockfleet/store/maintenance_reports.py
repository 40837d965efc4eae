"""What cleanup and reconcile did on each host: their reports, and totals since the start.

Per host, a capped stream of cleanup reports and one of reconcile reports
(each entry the report's JSON in the field `_REPORT`), for operators and
tests; and one hash of counters (`Totals`) that only grows, for the
exporter's Prometheus counters. A dry run is reported but not counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import redis

from dockfleet import keys
from dockfleet.models import CleanupReport, ReconcileReport
from dockfleet.store.replies import text

Kind = Literal["cleanup", "reconcile"]

#: the field of a report stream's entry that holds the report's JSON
_REPORT = "r"
_STREAMS: dict[Kind, Callable[[str], str]] = {
    "cleanup": keys.cleanup_reports,
    "reconcile": keys.reconcile_reports,
}
# The counters' names in the hash: per kind of object, and two plain ones.
_REMOVED, _REAPED = "removed_", "reaped_"
_BYTES, _DEADLINES = "bytes_reclaimed", "deadline_container"


@dataclass
class Totals:
    """Counts of a host's maintenance: what one run adds, or all runs since the start.

    A run gives the counts it keeps (zeros included); None is a count it does not keep.
    """

    #: objects cleanup removed, by kind (container, network, image)
    removed: Mapping[str, int] = field(default_factory=dict)
    #: orphaned job objects reconcile reaped, by kind (container, network)
    reaped: Mapping[str, int] = field(default_factory=dict)
    bytes_reclaimed: int | None = None
    #: containers reconcile removed past their maximum lifetime
    deadlines: int | None = None

    def fields(self) -> dict[str, int]:
        """The counts under their names in the hash (and in the run's log line)."""
        counts = {
            **{_REMOVED + kind: n for kind, n in self.removed.items()},
            **{_REAPED + kind: n for kind, n in self.reaped.items()},
            _BYTES: self.bytes_reclaimed,
            _DEADLINES: self.deadlines,
        }
        return {name: n for name, n in counts.items() if n is not None}

    @classmethod
    def parse(cls, fields: Mapping[str, str]) -> Totals:
        def by_kind(prefix: str) -> dict[str, int]:
            found = {k: v for k, v in fields.items() if k.startswith(prefix)}
            return {k.removeprefix(prefix): int(v) for k, v in found.items()}

        return cls(
            removed=by_kind(_REMOVED),
            reaped=by_kind(_REAPED),
            bytes_reclaimed=int(fields.get(_BYTES, 0)),
            deadlines=int(fields.get(_DEADLINES, 0)),
        )


def record(
    client: redis.Redis,
    kind: Kind,
    report: CleanupReport | ReconcileReport,
    added: Totals,
    keep: int,
) -> None:
    """`report` into its host's stream of `kind` (about `keep` kept); `added` into the totals."""
    pipe = client.pipeline(transaction=False)
    entry = {_REPORT: report.model_dump_json()}
    pipe.xadd(_STREAMS[kind](report.host), entry, maxlen=keep, approximate=True)  # type: ignore[arg-type]
    if not report.dry_run:
        for name, amount in added.fields().items():
            if amount:
                pipe.hincrby(keys.maintenance_totals(report.host), name, amount)
    pipe.execute()


def totals(client: redis.Redis, hosts: Iterable[str]) -> dict[str, Totals]:
    """Each host's totals since the start, in one round trip."""
    names = list(hosts)
    pipe = client.pipeline(transaction=False)
    for host in names:
        pipe.hgetall(keys.maintenance_totals(host))
    found: list[dict[Any, Any]] = pipe.execute()
    return {
        host: Totals.parse({text(k): text(v) for k, v in raw.items()})
        for host, raw in zip(names, found, strict=True)
    }
