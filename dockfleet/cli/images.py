"""Image commands: images, build, rmi, tag (pull and push: `dockfleet.cli.transfers`).

Build streams its log as it comes, on stderr when ``--json`` puts the result
on stdout, so that a machine reads clean JSON.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import click

from dockfleet.cli.key_values import pairs, parse_filters
from dockfleet.cli.main import Context, cli
from dockfleet.cli.options import (
    EVERY_LIVE_HOST,
    ONLY_LIVE_HOST,
    filter_option,
    host_option,
    json_option,
    quiet_option,
)
from dockfleet.cli.output import ago, emit_json, for_each, listing, size
from dockfleet.models import BuildOptions, ImageFilter, ImageInfo, ImageRemoveResult


@cli.command("build")
@host_option(ONLY_LIVE_HOST)
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
@quiet_option("Print only the image id.")
@json_option("Print the result as JSON (log on stderr).")
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
@host_option(EVERY_LIVE_HOST)
@filter_option("dangling=true|false, label=k[=v], reference=pattern (repeatable).")
@click.option("--managed", is_flag=True, help="Only images the fleet built.")
@quiet_option()
@json_option()
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
    spec = parse_filters(filters, lists={"label": "labels"}, single=["dangling", "reference"])
    if "dangling" in spec:
        spec["dangling"] = spec["dangling"].lower() in ("1", "true", "yes")
    query = ImageFilter.model_validate({**spec, "host": host, "managed_only": managed})
    found = state.fleet.list_images(query)
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
@host_option(ONLY_LIVE_HOST)
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
@host_option(ONLY_LIVE_HOST)
@click.argument("source")
@click.argument("target")
@click.pass_obj
def tag(state: Context, host: str | None, source: str, target: str) -> None:
    """Give a host's image SOURCE the extra name TARGET."""
    info = state.fleet.tag_image(source, target, host=host)
    click.echo(f"{target}: {info.short_id} on {info.host}")
