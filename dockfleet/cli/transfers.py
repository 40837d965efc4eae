"""``dockfleet pull`` and ``dockfleet push``: one registry transfer path, two directions.

Both log in the same way (``--username`` and a password on stdin, never an
argument), show the same live display (layers done / total, on stderr so that
``--json`` leaves stdout clean) and print the result the same way; they differ
only in the fleet call and the line that says what was done.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

from dockfleet.cli.main import Context, cli
from dockfleet.cli.options import (
    ONLY_LIVE_HOST,
    Decorator,
    host_option,
    json_option,
    quiet_option,
    together,
)
from dockfleet.cli.output import emit_json
from dockfleet.errors import InvalidSpec
from dockfleet.models import RegistryCredentials, TransferProgress

R = TypeVar("R", bound=BaseModel)
ProgressCallback = Callable[[TransferProgress], None]
#: the fleet call of a transfer: credentials and a progress callback in, its result out
Send = Callable[[RegistryCredentials | None, ProgressCallback | None], R]


def transfer_options(json_help: str) -> Decorator:
    """What pull and push both take after their own options: login, quiet, --json, REFERENCE
    (the command hands all but REFERENCE on to `transfer` as they are)."""
    return together(
        click.option("--username", "-u", help="Registry user (default: the worker's)."),
        click.option(
            "--password-stdin", is_flag=True, help="Read the registry password from stdin."
        ),
        quiet_option("No progress display."),
        json_option(json_help),
        click.argument("reference"),
    )


@cli.command("pull")
@host_option(ONLY_LIVE_HOST)
@click.option("--platform", help="os/arch[/variant] to pull.")
@transfer_options("Print the image as JSON.")
@click.pass_obj
def pull(
    state: Context, /, host: str | None, platform: str | None, reference: str, **shared: Any
) -> None:
    """Pull an image onto a fleet host (a pull already running there is joined)."""
    transfer(
        reference,
        lambda credentials, on_progress: state.fleet.pull_image(
            reference, credentials, host=host, platform=platform, on_progress=on_progress
        ),
        lambda info: f"{reference}: pulled on {info.host} ({info.short_id})",
        **shared,
    )


@cli.command("push")
@host_option(ONLY_LIVE_HOST)
@transfer_options("Print the result as JSON.")
@click.pass_obj
def push(state: Context, /, host: str | None, reference: str, **shared: Any) -> None:
    """Push a fleet host's image to the registry its name points at."""
    transfer(
        reference,
        lambda credentials, on_progress: state.fleet.push_image(
            reference, credentials, host=host, on_progress=on_progress
        ),
        lambda result: f"{result.reference}: pushed from {result.host} ({result.digest})",
        **shared,
    )


def transfer(
    reference: str,
    send: Send[R],
    done: Callable[[R], str],
    *,
    username: str | None,
    password_stdin: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Log in, `send` with a live display (none when quiet or not on a terminal), then print
    the result: as JSON, or the line `done` makes of it."""
    credentials = _credentials(username, password_stdin)
    with _transfer_display(reference, quiet or not sys.stderr.isatty()) as on_progress:
        result = send(credentials, on_progress)
    if as_json:
        emit_json(result)
    else:
        click.echo(done(result))


def _credentials(username: str | None, password_stdin: bool) -> RegistryCredentials | None:
    """Credentials from --username and a password on stdin (never a command-line argument)."""
    if password_stdin and not username:
        raise InvalidSpec("--password-stdin needs --username")
    if not username:
        return None
    if not password_stdin:
        raise InvalidSpec("--username needs --password-stdin (a password is never an argument)")
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise InvalidSpec("--password-stdin: no password on stdin")
    return RegistryCredentials(username=username, password=password)


@contextmanager
def _transfer_display(reference: str, quiet: bool) -> Iterator[ProgressCallback | None]:
    """A spinner with layers done / total on stderr; yields the progress callback."""
    if quiet:
        yield None
        return
    err = Console(stderr=True, highlight=False)
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[layers]}"),
        TextColumn("{task.fields[status]}"),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(reference, total=None, layers="", status="starting")

        def update(p: TransferProgress) -> None:
            layers = f"{p.layers_done}/{p.layers_total} layers" if p.layers_total else ""
            total = p.bytes_total or None
            status = "waiting for a pull already running" if p.waiting else p.status[:40]
            progress.update(task, completed=p.bytes_done, total=total, layers=layers, status=status)

        yield update
