"""`dockfleet run` on a terminal and in a pipe: a spinner on a terminal's stderr only."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import threading

import pytest

from dockfleet import Fleet
from tests.conftest import TEST_IMAGE, Host
from tests.support.services import REPO

pytestmark = pytest.mark.engine
ANSI = re.compile(r"\x1b\[")


def run_cli(args: list[str], redis_url: str, stderr_tty: bool) -> tuple[int, str, str]:
    """Run dockfleet with stdout to a pipe and stderr to a terminal (a pty) or a pipe."""
    env = {**os.environ, "DOCKFLEET_REDIS_URL": redis_url, "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    command = [sys.executable, "-m", "dockfleet", *args]
    if not stderr_tty:
        done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
        return done.returncode, done.stdout, done.stderr
    master, slave = pty.openpty()
    process = subprocess.Popen(
        command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=slave, text=True
    )
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # the terminal closed with the process
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    out, _ = process.communicate(timeout=120)
    reader.join(10)
    os.close(master)
    return process.returncode, out, b"".join(chunks).decode(errors="replace")


def job_args(host: Host) -> list[str]:
    script = "echo first line; echo to-stderr >&2"
    return ["run", "--host", host.name, TEST_IMAGE, "--", "sh", "-c", script]


def test_on_a_terminal_a_spinner_tells_what_the_job_waits_for(fleet: Fleet, host_a: Host) -> None:
    code, out, terminal = run_cli(job_args(host_a), fleet.settings.redis_url, stderr_tty=True)

    assert code == 0, terminal
    # stdout (a pipe) carries the job's output only: no spinner, no colour
    assert out == "first line\n"
    assert not ANSI.search(out)
    # the terminal saw the spinner's words, and the job's stderr line
    assert "job " in terminal and (
        "waiting for a Docker host" in terminal or host_a.name in terminal
    )
    assert "to-stderr" in terminal


def test_in_a_pipe_there_is_no_spinner_and_no_colour(fleet: Fleet, host_a: Host) -> None:
    code, out, err = run_cli(job_args(host_a), fleet.settings.redis_url, stderr_tty=False)

    assert code == 0, err
    assert out == "first line\n"
    assert err == "to-stderr\n"
