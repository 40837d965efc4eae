"""The options many commands share, each declared once (their KEY=VALUE items are parsed
by `dockfleet.cli.key_values`).

A shared option keeps its name and behaviour everywhere; only its help may say
what it means for the command at hand (whose host a default is, what --json
prints), so each takes its help text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

F = Callable[..., Any]
Decorator = Callable[[F], F]

#: --host of a command on an existing container: the fleet finds its host
HOST_OF_THE_ID = "The Docker host (default: found from the id)."
#: --host of a command on an image or network, which lives on one host the fleet cannot guess
ONLY_LIVE_HOST = "The Docker host (default: the fleet's only live host)."
#: --host of a network command on a container
HOST_OF_THE_CONTAINER = "The Docker host (default: the container's)."
#: --host of a listing or a fleet-wide action
EVERY_LIVE_HOST = "Only this host (default: every live host)."


def host_option(help: str = HOST_OF_THE_ID) -> Decorator:
    """``--host NAME``: the Docker host a command acts on; `help` says which without it."""
    return click.option("--host", help=help)


def json_option(help: str = "Print JSON.") -> Decorator:
    """``--json``: print the result as JSON for a machine (parameter ``as_json``)."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def quiet_option(help: str = "Only print ids.") -> Decorator:
    """``--quiet``/``-q``: print less (`help` says what is left)."""
    return click.option("--quiet", "-q", is_flag=True, help=help)


def filter_option(help: str, *, short: bool = True) -> Decorator:
    """``--filter``/``-f KEY=VALUE``, repeatable (parameter ``filters``); ``short=False``
    leaves ``-f`` to a command whose ``-f`` is ``--force``."""
    names = ["--filter", "-f"] if short else ["--filter"]
    return click.option(*names, "filters", multiple=True, metavar="KEY=VALUE", help=help)


def together(*decorators: Decorator) -> Decorator:
    """One decorator of several, applied so that the options show in the order given."""

    def decorate(func: F) -> F:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return decorate
