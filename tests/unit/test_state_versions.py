"""Versions of cached container summaries: a later state of a container orders after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dockfleet.models import ContainerInfo as Info
from dockfleet.store.container_cache import version

MADE = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def state(status: str, started: float | None = None, finished: float | None = None) -> Info:
    def at(seconds: float | None) -> datetime | None:
        return None if seconds is None else MADE + timedelta(seconds=seconds)

    return Info(
        id="c", name="c", host="h", image="i", status=status, created=MADE,
        started_at=at(started), finished_at=at(finished),
    )  # fmt: skip


def test_each_later_state_of_a_container_has_a_larger_version() -> None:
    lifecycle = [
        state("created"),
        state("running", started=0.2),
        # the engine can stamp the finish of a process that exits at once before its start
        state("exited", started=0.2, finished=0.199),
        state("running", started=5.0, finished=0.199),  # restarted
        state("exited", started=5.0, finished=9.0),
    ]
    versions = [version(s) for s in lifecycle]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)


def test_pause_and_unpause_share_a_version_so_the_last_write_wins() -> None:
    assert version(state("paused", started=1.0)) == version(state("running", started=1.0))
