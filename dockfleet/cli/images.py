"""Image commands: images, pull, push, build, rmi, tag.

Pull and push show a live progress display (layers done / total) and build
streams its log as it comes — all on stderr when ``--json`` puts the result
on stdout, so that a machine reads clean JSON.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

from dockfleet.cli.main import Context, cli
from dockfleet.cli.output import ago, emit_json, for_each, listing, size
from dockfleet.errors import InvalidSpec
from dockfleet.models import (
    BuildOptions,
    ImageFilter,
    ImageInfo,
    ImageRemoveResult,
    RegistryCredentials,
)
from dockfleet.models.images import TransferProgress


def pairs(items: tuple[str, ...], option: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidSpec(f"{option}: {item!r} is not KEY=VALUE")
        pairs[key] = value
    return pairs


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


def registry_options(func: Any) -> Any:
    func = click.option(
        "--password-stdin", is_flag=True, help="Read the registry password from stdin."
    )(func)
    return click.option("--username", "-u", help="Registry user (default: the worker's).")(func)


@contextmanager
def _transfer_display(reference: str, quiet: bool) -> Iterator[Any]:
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


@cli.command("pull")
@click.option("--host", help="The Docker host (default: the fleet's only live host).")
@click.option("--platform", help="os/arch[/variant] to pull.")
@registry_options
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@click.option("--json", "as_json", is_flag=True, help="Print the image as JSON.")
@click.argument("reference")
@click.pass_obj
def pull(
    state: Context,
    host: str | None,
    platform: str | None,
    username: str | None,
    password_stdin: bool,
    quiet: bool,
    as_json: bool,
    reference: str,
) -> None:
    """Pull an image onto a fleet host (a pull already running there is joined)."""
    credentials = _credentials(username, password_stdin)
    with _transfer_display(reference, quiet or not sys.stderr.isatty()) as on_progress:
        info = state.fleet.pull_image(
            reference, credentials, host=host, platform=platform, on_progress=on_progress
        )
    if as_json:
        emit_json(info)
    else:
        click.echo(f"{reference}: pulled on {info.host} ({info.short_id})")


@cli.command("push")
@click.option("--host", help="The Docker host (default: the fleet's only live host).")
@registry_options
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.argument("reference")
@click.pass_obj
def push(
    state: Context,
    host: str | None,
    username: str | None,
    password_stdin: bool,
    quiet: bool,
    as_json: bool,
    reference: str,
) -> None:
    """Push a fleet host's image to the registry its name points at."""
    credentials = _credentials(username, password_stdin)
    with _transfer_display(reference, quiet or not sys.stderr.isatty()) as on_progress:
        result = state.fleet.push_image(reference, credentials, host=host, on_progress=on_progress)
    if as_json:
        emit_json(result)
    else:
        click.echo(f"{result.reference}: pushed from {result.host} ({result.digest})")


@cli.command("build")
@click.option("--host", help="The Docker host (default: the fleet's only live host).")
@click.option("--tag", "-t", "tags", multiple=True, help="Name the image (repeatable).")
@click.option("--file", "-f", "dockerfile", default="Dockerfile", show_default=True)
@click.option("--no-cache", is_flag=True, help="Run every step again.")
@click.option("--build-arg", "build_args", multiple=True, metavar="K=V", help="Repeatable.")
@click.option("--label", "labels", multiple=True, metavar="K=V", help="Repeatable.")
@click.option("--target", help="Build up to this stage.")
@click.option("--pull", "pull_base", is_flag=True, help="Always pull a newer base image.")
@click.option(
    "--on-worker", is_flag=True, help="CONTEXT is a folder on the worker's machine (no upload)."
)
@click.option("--quiet", "-q", is_flag=True, help="Print only the image id.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (log on stderr).")
@click.argument("context")
@click.pass_obj
def build(
    state: Context,
    host: str | None,
    tags: tuple[str, ...],
    dockerfile: str,
    no_cache: bool,
    build_args: tuple[str, ...],
    labels: tuple[str, ...],
    target: str | None,
    pull_base: bool,
    on_worker: bool,
    quiet: bool,
    as_json: bool,
    context: str,
) -> None:
    """Build an image on a fleet host from CONTEXT: a folder, a tar, a URL, or - (tar on stdin).

    The folder (or tar) is uploaded unless --on-worker; the log streams live.
    """
    options = BuildOptions(
        tags=list(tags),
        dockerfile=dockerfile,
        no_cache=no_cache,
        build_args=pairs(build_args, "--build-arg"),
        labels=pairs(labels, "--label"),
        target=target,
        pull=pull_base,
    )
    log = sys.stderr if as_json else sys.stdout

    def on_log(line: str) -> None:
        log.write(line + "\n")
        log.flush()

    source: str | bytes = sys.stdin.buffer.read() if context == "-" else context
    result = state.fleet.build_image(
        source, options, host=host, upload_context=not on_worker, on_log=None if quiet else on_log
    )
    if as_json:
        emit_json(result)
    elif quiet:
        click.echo(result.id)
    else:
        tagged = ", ".join(result.tags) or "untagged"
        click.echo(f"built {result.short_id} on {result.host} ({tagged}) in {result.duration:.1f}s")


@cli.command("images")
@click.option("--host", help="Only this host (default: every live host).")
@click.option("--filter", "-f", "filters", multiple=True, metavar="KEY=VALUE",
              help="dangling=true|false, label=k[=v], reference=pattern (repeatable).")  # fmt: skip
@click.option("--managed", is_flag=True, help="Only images the fleet built.")
@click.option("--quiet", "-q", is_flag=True, help="Only print ids.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def images(
    state: Context,
    host: str | None,
    filters: tuple[str, ...],
    managed: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """List the images of the fleet's hosts."""
    spec: dict[str, Any] = {"host": host, "managed_only": managed, "labels": []}
    for item in filters:
        key, sep, value = item.partition("=")
        if not sep or key not in ("dangling", "label", "reference"):
            raise InvalidSpec(f"--filter: {item!r} is not dangling=, label= or reference=")
        if key == "label":
            spec["labels"].append(value)
        elif key == "dangling":
            spec["dangling"] = value.lower() in ("1", "true", "yes")
        else:
            spec["reference"] = value
    found = state.fleet.list_images(ImageFilter.model_validate(spec))
    headers = ["REPOSITORY", "TAG", "IMAGE ID", "HOST", "CREATED", "SIZE"]
    listing(found, as_json=as_json, quiet=quiet, headers=headers, rows=_rows(found))


def _rows(found: list[ImageInfo]) -> Iterator[list[str]]:
    for info in found:
        for name in info.tags or ["<none>:<none>"]:
            repository, _, tag_name = name.rpartition(":")
            yield [
                repository,
                tag_name,
                info.short_id,
                info.host,
                ago(info.created),
                size(info.size),
            ]


@cli.command("rmi")
@click.option("--host", help="The Docker host (default: the fleet's only live host).")
@click.option("--force", "-f", is_flag=True, help="Remove even if containers use it.")
@click.option("--no-prune", is_flag=True, help="Keep untagged parents.")
@click.argument("references", nargs=-1, required=True)
@click.pass_obj
def rmi(
    state: Context, host: str | None, force: bool, no_prune: bool, references: tuple[str, ...]
) -> None:
    """Remove images from a fleet host."""

    def show(reference: str, result: ImageRemoveResult) -> None:
        for name in result.untagged:
            click.echo(f"Untagged: {name}")
        for layer in result.deleted:
            click.echo(f"Deleted: {layer}")
        if not result.removed:
            click.echo(f"{reference}: already gone")

    for_each(
        references, lambda ref: state.fleet.remove_image(ref, force, no_prune, host=host), show
    )


@cli.command("tag")
@click.option("--host", help="The Docker host (default: the fleet's only live host).")
@click.argument("source")
@click.argument("target")
@click.pass_obj
def tag(state: Context, host: str | None, source: str, target: str) -> None:
    """Give a host's image SOURCE the extra name TARGET."""
    info = state.fleet.tag_image(source, target, host=host)
    click.echo(f"{target}: {info.short_id} on {info.host}")
