"""Runs the real ``dockfleet`` command, as a pipeline step does, and reads its error line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DOCKFLEET = str(Path(sys.executable).with_name("dockfleet"))
#: what `dockfleet` exits with when the fleet, not the job, failed (docker run's code)
FLEET_FAILED = 125


def run_dockfleet(
    *args: str, redis_url: str, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    """`dockfleet ARGS` against the fleet at `redis_url`, with `env` on top of this process's."""
    full = {**os.environ, "DOCKFLEET_REDIS_URL": redis_url, **env}
    full.pop("DOCKFLEET_DEBUG", None)  # a traceback instead of the line under test
    return subprocess.run(
        [DOCKFLEET, *args], capture_output=True, text=True, env=full, timeout=timeout
    )


def one_error_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """The one line a failed command printed on stderr; it must name all of `words`."""
    assert result.returncode != 0, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]
