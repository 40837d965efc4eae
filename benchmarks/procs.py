"""Processes of a benchmark run, read from /proc: process trees and the CPU time they use."""

from __future__ import annotations

import os
from pathlib import Path

#: the local engine's long-lived processes (a container's shim and runc exit with it,
#: taking their CPU time with them, so they are not counted)
ENGINE_COMMANDS = ("dockerd", "containerd")


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found += tree(int(child))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """CPU time of `pids` (those still running) and of the children they reaped, in s."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited since it was listed
        ticks += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def engine_pids() -> list[int]:
    """Every dockerd and containerd process of this machine."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if command in ENGINE_COMMANDS:
                found.append(int(entry.name))
    return found
