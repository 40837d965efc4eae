"""The docker-run style options that describe a container, shared by ``create`` (and ``run``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import click

from dockfleet.cli.key_values import pairs
from dockfleet.cli.options import Decorator, together
from dockfleet.env_sources import assignment, read_env_file
from dockfleet.errors import InvalidSpec
from dockfleet.models import ContainerConfig
from dockfleet.validation import parse

_OPTIONS: list[Decorator] = [
    click.option("--name", help="Container name."),
    click.option(
        "--env",
        "-e",
        multiple=True,
        metavar="KEY[=VALUE]",
        help="Set an environment variable; KEY alone takes your variable KEY.",
    ),
    click.option(
        "--env-file",
        multiple=True,
        metavar="FILE",
        help="Read variables from a file of KEY=VALUE lines (docker's format).",
    ),
    click.option(
        "--secret-env",
        multiple=True,
        metavar="KEY[=VALUE]",
        help="A secret variable, masked everywhere; KEY alone takes your variable KEY "
        "(so the value is never in argv).",
    ),
    click.option(
        "--secret-env-file",
        multiple=True,
        metavar="FILE",
        help="Read secret variables from a file of KEY=VALUE lines.",
    ),
    click.option(
        "--volume", "-v", multiple=True, help="Bind mount SOURCE:TARGET[:ro] (policy permitting)."
    ),
    click.option("--publish", "-p", multiple=True, help="Publish [IP:]HOST_PORT:CONTAINER_PORT."),
    click.option("--label", "-l", multiple=True, help="Set a label (KEY=VALUE)."),
    click.option("--memory", "-m", help="Memory limit (bytes or 512m, 1g)."),
    click.option("--cpus", type=float, help="Number of CPUs (e.g. 1.5)."),
    click.option("--user", "-u", help="User[:group] to run as (default: non-root)."),
    click.option("--workdir", "-w", help="Working directory inside the container."),
    click.option("--read-only", is_flag=True, help="Mount the root file system read-only."),
    click.option("--network", help="Network to connect to."),
    click.option("--entrypoint", help="Override the image's entrypoint."),
    click.option("--pids-limit", type=int, help="Maximum number of processes."),
    click.option("--cap-add", multiple=True, help="Add a capability (policy permitting)."),
    click.option("--tmpfs", multiple=True, help="Mount a tmpfs PATH[:OPTIONS]."),
    click.option("--init", is_flag=True, help="Run an init process as PID 1."),
    click.option("--restart", "restart_policy", help="Restart policy: no, always, on-failure[:N]."),
]


#: decorates a command with every container option
container_options = together(*_OPTIONS)


def config_from_options(
    image: str, command: tuple[str, ...], *, environ: Mapping[str, str] | None = None, **opts: Any
) -> ContainerConfig:
    """Build a validated `ContainerConfig` from the parsed options."""
    return parse(ContainerConfig, container_fields(image, command, environ=environ, **opts))


def container_fields(
    image: str | None,
    command: tuple[str, ...],
    *,
    environ: Mapping[str, str] | None = None,
    **opts: Any,
) -> dict[str, Any]:
    """The `ContainerConfig` fields the options set (not validated); an option that is
    absent or None sets nothing, so that the fields can lie over a job file's.

    Args:
        environ: where ``-e KEY`` and ``--secret-env KEY`` look (default: os.environ).
    """
    environ = os.environ if environ is None else environ
    if command[:1] == ("--",):
        command = command[1:]  # `IMAGE -- CMD`: the separator is docker's habit, not an arg
    env = _variables(opts.get("env_file"), opts.get("env"), "--env", environ)
    secrets = _variables(
        opts.get("secret_env_file"), opts.get("secret_env"), "--secret-env", environ
    )
    spec: dict[str, Any] = {
        "image": image,
        "name": opts.get("name"),
        "cmd": list(command) or None,
        "env": [f"{k}={v}" for k, v in env.items()] or None,
        "secret_env": secrets or None,
        "volumes": _volumes(opts.get("volume")) or None,
        "ports": _ports(opts.get("publish")) or None,
        "labels": pairs(opts.get("label"), "--label", need_value=False) or None,
        "memory_limit": opts.get("memory"),
        "cpu_limit": opts.get("cpus"),
        "user": opts.get("user"),
        "working_dir": opts.get("workdir"),
        "read_only": opts.get("read_only"),
        "network": opts.get("network"),
        "entrypoint": [opts["entrypoint"]] if opts.get("entrypoint") else None,
        "pids_limit": opts.get("pids_limit"),
        "cap_add": list(opts.get("cap_add") or ()) or None,
        "tmpfs": dict(_split(t, ":") for t in opts.get("tmpfs") or ()) or None,
        "init": opts.get("init"),
    }
    if opts.get("restart_policy"):
        name, _, retries = str(opts["restart_policy"]).partition(":")
        spec["restart_policy"] = {"name": name, "max_retry": int(retries or 0)}
    return {k: v for k, v in spec.items() if v is not None}


def _variables(files: Any, items: Any, flag: str, environ: Mapping[str, str]) -> dict[str, str]:
    # docker's order: the files first, then each flag, a later one replacing an earlier one.
    pairs = [p for path in files or () for p in read_env_file(path, environ, f"{flag}-file")]
    pairs += [assignment(item, environ, flag) for item in items or ()]
    return dict(pairs)


def _split(item: str, sep: str) -> tuple[str, str]:
    key, _, value = item.partition(sep)
    return key, value


def _volumes(items: Any) -> dict[str, str]:
    result = {}
    for item in items or ():
        source, sep, target = item.partition(":")
        if not sep or not source or not target:
            raise InvalidSpec(f"--volume: {item!r} is not SOURCE:TARGET[:ro]")
        result[source] = target
    return result


def _ports(items: Any) -> dict[str, str]:
    result = {}
    for item in items or ():
        host, sep, container = item.rpartition(":")
        if not sep:
            host, container = "", item  # -p 80: a random host port
        result[host] = container
    return result
