"""Disk pressure of one host between the cleanup watermarks: when eviction starts, where it stops.

Usage is the disk that holds the engine's data root when this worker sees it, else
(or when ``image_budget_bytes`` is set) the engine's image layers as a share of that
budget. Eviction starts once usage passes the high watermark and takes the least
recently used objects first until the projected usage is under the low one: images
(`image_gc`), then job caches (`cache_gc`), which count the bytes the planned images free.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from dockfleet.models import CleanupReport
from worker.engine import system as engine_system
from worker.maintenance.disk import data_root_usage
from worker.runtime import Runtime

T = TypeVar("T")
Basis = Literal["disk", "budget"]


@dataclass
class Pressure:
    """Usage over the high watermark: the bytes still to free, as planning goes on."""

    used: float
    #: the low watermark, in bytes
    target: float
    basis: Basis


@dataclass(frozen=True)
class Candidate(Generic[T]):
    """An object eviction may take: when it was last used (unix time) and its bytes."""

    used_at: float
    size: int
    item: T


def measure(rt: Runtime, layers: int, report: CleanupReport) -> Pressure | None:
    """The host's pressure when usage is over the high watermark, else None; the report
    gets the usage either way (`layers`: the bytes of the engine's image layers)."""
    settings = rt.settings.cleanup
    usage = _usage(rt, layers)
    if usage is None:
        return None
    used, total, basis = usage
    report.usage_basis = basis
    report.usage_percent = round(used / total * 100.0, 2)
    if report.usage_percent < settings.image_high_watermark:
        return None
    return Pressure(used, settings.image_low_watermark / 100.0 * total, basis)


def oldest_first(pressure: Pressure, candidates: Iterable[Candidate[T]]) -> list[Candidate[T]]:
    """The least recently used `candidates` whose removal brings usage under the low
    watermark (all of them when it cannot); `pressure` is left with the usage after them."""
    taken = []
    for candidate in sorted(candidates, key=lambda c: c.used_at):
        if pressure.used <= pressure.target:
            break
        pressure.used -= candidate.size
        taken.append(candidate)
    return taken


def _usage(rt: Runtime, layers: int) -> tuple[float, float, Basis] | None:
    budget = rt.settings.cleanup.image_budget_bytes
    if budget:
        return float(layers), float(budget), "budget"
    disk = data_root_usage(rt.settings, engine_system.facts(rt.docker).data_root)
    if disk is None:
        return None  # neither a visible disk nor a budget: no basis to evict on
    return float(disk[0]), float(disk[1]), "disk"
