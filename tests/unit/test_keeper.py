"""The process's one renewal thread: each hold renewed at its own interval, none after its stop."""

from __future__ import annotations

import threading
import time

from dockfleet.store.redis_types import StoreError
from worker.process.keeper import Keeper, renewals


def wait_until(check: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_each_hold_is_renewed_at_its_own_interval_on_one_thread() -> None:
    calls: dict[str, list[float]] = {"fast": [], "slow": []}
    threads: set[str] = set()

    def renew(name: str) -> bool:
        calls[name].append(time.monotonic())
        threads.add(threading.current_thread().name)
        return True

    fast = Keeper("fast", 0.15, lambda: renew("fast")).start()  # every 0.05 s
    slow = Keeper("slow", 0.9, lambda: renew("slow")).start()  # every 0.3 s
    try:
        wait_until(lambda: len(calls["slow"]) >= 2)
    finally:
        fast.stop()
        slow.stop()
    assert len(calls["fast"]) >= 4 * len(calls["slow"]) - 2
    assert threads == {"dockfleet-keeper"}
    assert not fast.lost.is_set() and not slow.lost.is_set()


def test_no_renewal_after_stop_and_stop_waits_for_one_under_way() -> None:
    began, release, renewed_after_stop = threading.Event(), threading.Event(), []
    stopped = threading.Event()

    def renew() -> bool:
        if stopped.is_set():
            renewed_after_stop.append(True)
        began.set()
        release.wait(5)
        return True

    keeper = Keeper("slow renewal", 0.06, renew).start()
    assert began.wait(5)
    stopper = threading.Thread(target=lambda: (keeper.stop(), stopped.set()))
    stopper.start()
    time.sleep(0.1)
    assert not stopped.is_set(), "stop returned while a renewal was under way"
    release.set()
    stopper.join(5)
    assert stopped.is_set()
    time.sleep(0.1)
    assert not renewed_after_stop
    wait_until(lambda: renewals.holds() == 0)


def test_a_lost_hold_is_flagged_once_and_a_store_error_is_retried() -> None:
    answers = iter([StoreError("away"), True, False])
    calls = []

    def renew() -> bool:
        calls.append(1)
        answer = next(answers, True)
        if isinstance(answer, Exception):
            raise answer
        return answer

    keeper = Keeper("flaky", 0.06, renew).start()
    try:
        assert keeper.lost.wait(5)
        time.sleep(0.1)
        assert len(calls) == 3, "renewals stop while the holder has not retaken it"
        keeper.lost.clear()  # the holder retook it: renewals resume
        wait_until(lambda: len(calls) > 3)
    finally:
        keeper.stop()


def test_a_keeper_started_again_is_renewed_once_per_interval() -> None:
    calls: list[float] = []
    keeper = Keeper("restarted", 0.3, lambda: calls.append(time.monotonic()) or True)
    keeper.start()
    keeper.stop()
    keeper.start()
    try:
        wait_until(lambda: len(calls) >= 3)
    finally:
        keeper.stop()
    gaps = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    assert min(gaps) > 0.05, gaps  # one schedule, not two interleaved
