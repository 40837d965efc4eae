"""The command lines of the fleet's Celery programs, spelled once.

`dockfleet worker` execs a worker, `dockfleet up` runs one (with beat and Flower)
as its children, and the tests start their own: all through these functions, so a
worker started any of these ways runs the same app with the same node name and
flags. Settings travel in the environment (`settings_environment`), never in argv,
which ``ps`` shows to every user of the machine.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from dockfleet.settings_names import env_name

#: the Celery app of the workers, beat and Flower
APP = "worker.app"
#: what every fleet worker runs with: no start-up exchange of revoked task ids with the
#: other workers (the fleet revokes nothing: a canceled job is marked in its record) and
#: no worker-to-worker event gossip (a host's workers meet in Redis, through the
#: heartbeat); both cost each worker time and traffic that grow with the fleet
WORKER_FLAGS = ("--without-mingle", "--without-gossip")
DEFAULT_LOGLEVEL = "INFO"


def celery_command(program: str, *args: str) -> list[str]:
    """``python -m celery -A worker.app PROGRAM ARGS`` with this interpreter: a virtualenv's
    Celery runs without its bin/ on PATH."""
    return [sys.executable, "-m", "celery", "-A", APP, program, *args]


def node_name(host_name: str, machine: str = "%h") -> str:
    """A worker's Celery node name: its Docker host's name at the machine it runs on (Celery
    expands ``%h`` to this machine's name). Two workers of one host on one machine need
    two names."""
    return f"{host_name}@{machine}"


def worker_command(
    node: str, loglevel: str = DEFAULT_LOGLEVEL, options: Sequence[str] = ()
) -> list[str]:
    """The command line of a fleet worker named `node`; `options` are more of Celery's."""
    return celery_command("worker", "-n", node, "--loglevel", loglevel, *WORKER_FLAGS, *options)


def settings_environment(**values: object) -> dict[str, str]:
    """The ``DOCKFLEET_*`` variables that give a process the settings `values` (by setting
    name: ``host_name="b2"`` is ``DOCKFLEET_HOST_NAME=b2``); None leaves one out."""
    return {env_name((name,)): str(value) for name, value in values.items() if value is not None}
