"""Disk use of the filesystem that holds an engine's data root, when this worker sees it."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from dockfleet.settings import Settings

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def engine_is_local(settings: Settings) -> bool:
    """Whether the engine runs on this machine (its paths are this machine's paths)."""
    url = settings.docker_host
    if url.startswith("unix://"):
        return True
    return (urlsplit(url).hostname or "") in LOOPBACK


def data_root_usage(settings: Settings, root: str) -> tuple[int, int] | None:
    """(used, total) bytes of the disk holding `root`; None when it is not visible here."""
    if not root or not engine_is_local(settings) or not os.path.isdir(root):
        return None
    stat = os.statvfs(root)
    total = stat.f_blocks * stat.f_frsize
    used = (stat.f_blocks - stat.f_bfree) * stat.f_frsize
    return used, total
