"""`dockfleet up`: a whole local fleet for one machine, run as child processes of one supervisor."""

from __future__ import annotations


class UpError(Exception):
    """The fleet could not be started or stopped; the message says why and what to do."""
