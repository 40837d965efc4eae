"""Progress for people: a spinner on stderr while a command waits, only on a terminal.

Output meant for machines (stdout, pipes, CI logs) never gets spinners or colour.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

T = TypeVar("T")
POLL_SECONDS = 0.5


def interactive() -> bool:
    return sys.stderr.isatty()


@contextmanager
def spinner(message: str) -> Iterator[Callable[[str], None]]:
    """Show `message` with a spinner on stderr; yields a function that changes the text."""
    if not interactive():
        yield lambda _text: None
        return
    with Console(stderr=True).status(message) as status:
        yield lambda text: status.update(text)


def wait_with_spinner(first: Callable[[], T], describe: Callable[[], str]) -> T:
    """Call `first` (blocking) while a spinner shows what `describe` says, refreshed often."""
    if not interactive():
        return first()
    with spinner(describe()) as update:
        done = threading.Event()

        def refresh() -> None:
            while not done.wait(POLL_SECONDS):
                try:
                    update(describe())
                except Exception:  # a Redis blip must not break the display
                    pass

        poller = threading.Thread(target=refresh, name="spinner", daemon=True)
        poller.start()
        try:
            return first()
        finally:
            done.set()
            poller.join(1)


@contextmanager
def byte_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A bar of bytes done of a total on stderr; yields the function that moves it
    (done, total; a total of 0 is not known yet). Nothing is shown off a terminal."""
    if not interactive():
        yield lambda _done, _total: None
        return
    columns = ("{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total or None)
