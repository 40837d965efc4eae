"""The beat schedule follows the settings: intervals, switches, expiry, the maintenance queue."""

from __future__ import annotations

import pytest

from beat_schedule import build_schedule
from dockfleet import Settings
from dockfleet.queues import MAINTENANCE_QUEUE, TaskNames


def test_every_kind_is_a_dispatch_tick_at_its_interval_that_expires_after_one() -> None:
    # Given settings with distinct intervals
    settings = Settings(stats_interval=7, cleanup_interval=120, reconcile_interval=30)
    # When the schedule is built
    schedule = build_schedule(settings)
    # Then each kind is one dispatch, on the maintenance queue, expiring with its interval
    expected = {"sample_stats": 7.0, "cleanup": 120.0, "reconcile": 30.0}
    assert set(schedule) == {f"dockfleet.{k}" for k in expected}
    for kind, every in expected.items():
        entry = schedule[f"dockfleet.{kind}"]
        assert entry["task"] == TaskNames.MAINTENANCE_DISPATCH
        assert entry["schedule"] == every and entry["args"] == (kind, every)
        assert entry["options"] == {"queue": MAINTENANCE_QUEUE, "expires": every}


@pytest.mark.parametrize(
    ("flag", "kind"),
    [
        ("enable_monitoring", "sample_stats"),
        ("enable_auto_cleanup", "cleanup"),
        ("enable_reconcile", "reconcile"),
    ],
)
def test_a_switched_off_kind_is_not_scheduled(flag: str, kind: str) -> None:
    schedule = build_schedule(Settings(**{flag: False}))  # type: ignore[arg-type]
    assert f"dockfleet.{kind}" not in schedule and len(schedule) == 2


def test_the_worker_app_carries_the_schedule_and_the_locked_scheduler() -> None:
    from worker.app import app

    assert app.conf.beat_scheduler == "worker.process.beat:LockedScheduler"
    assert "dockfleet.sample_stats" in app.conf.beat_schedule
    assert "tasks.maintenance" in app.conf.include


def test_a_low_watermark_above_the_high_one_is_refused() -> None:
    with pytest.raises(ValueError, match="watermark"):
        Settings(cleanup={"image_high_watermark": 50, "image_low_watermark": 60})  # type: ignore[arg-type]
