"""The public face's client is imported on first use: a worker never loads it.

Each check runs in a fresh interpreter, so that no earlier test's imports count.
"""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip()


def test_a_worker_and_its_tasks_load_none_of_the_client() -> None:
    loaded = _run(
        "import sys, worker.app, tasks.jobs, tasks.containers, tasks.images, tasks.networks, "
        "tasks.maintenance, tasks.system, tasks.caches; "
        "print(sorted(m for m in sys.modules if m.startswith('dockfleet.client') "
        "or m == 'dockfleet.job_file'))"
    )
    assert loaded == "[]"


def test_the_client_names_are_there_on_first_use() -> None:
    shown = _run(
        "import dockfleet; from dockfleet import *; "
        "print(Fleet.__module__, JobHandle.__module__, load_job_file.__module__, "
        "dockfleet.Fleet is Fleet)"
    )
    assert shown == "dockfleet.client.fleet dockfleet.client.job_handle dockfleet.job_file True"


def test_an_unknown_name_is_an_attribute_error() -> None:
    said = _run(
        "import dockfleet\ntry:\n    dockfleet.Flet\nexcept AttributeError as e:\n    print(e)"
    )
    assert said == "module 'dockfleet' has no attribute 'Flet'"
