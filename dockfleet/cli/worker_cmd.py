"""``dockfleet worker``: become the Celery worker that binds one Docker host to the fleet.

It reads and checks the settings first, with its options on top, so that a bad
one is one line and exit 125 instead of a traceback from inside Celery. Then it
execs ``python -m celery -A worker.app worker`` (`dockfleet.celery_command`, as
`dockfleet up` and the tests build it): the same pid, so the signals of systemd,
docker or a shell reach Celery itself. The host name, engine, pool and
concurrency travel as ``DOCKFLEET_*`` variables, as every other setting does,
never in argv: ``ps`` shows argv to every user, and Celery's own ``--pool`` would
lose to the setting without a word. Celery's other worker options pass through,
screened (`dockfleet.cli.celery_options`).
"""

from __future__ import annotations

import os
import shlex
import sys
from typing import Any, get_args

import click
from pydantic import ValidationError

from dockfleet.celery_command import node_name, settings_environment, worker_command
from dockfleet.cli.celery_options import screen
from dockfleet.cli.main import Context, cli
from dockfleet.cli.options import json_option
from dockfleet.cli.output import emit_json
from dockfleet.client.transport import safe_url
from dockfleet.settings import Settings
from dockfleet.settings_names import env_name

#: the options that are settings: setting -> option, to name the option a bad value came from
SETTING_OPTIONS = {
    "host_name": "--host-name",
    "docker_host": "--docker-host",
    "worker_concurrency": "--concurrency",
    "worker_pool": "--pool",
}
POOLS = get_args(Settings.model_fields["worker_pool"].annotation)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: the variable whose value is a secret among those `dockfleet worker` sets
REDIS_URL_VARIABLE = env_name(("redis_url",))

WORKER_EPILOG = """\b
Examples:
  dockfleet worker --host-name builder-2                 # this machine's engine
  dockfleet worker --host-name builder-2 --docker-host tcp://builder-2.internal:2376
  dockfleet worker --host-name builder-2 -P prefork -c 8 --max-tasks-per-child 100
  dockfleet worker --host-name builder-2 --dry-run       # what it would run, and with what
\b
Celery's own worker options pass through (celery worker --help), except those that
would break the fleet: -Q/-X (a worker's queues are its host's), --detach, --purge,
--time-limit. Secrets (the password in DOCKFLEET_REDIS_URL, registry passwords) come
from the environment, an EnvironmentFile or DOCKFLEET_SECRETS_DIR, never from options.
A systemd unit: docs/dockfleet-worker.service."""


@cli.command(
    epilog=WORKER_EPILOG,
    # Celery's options come through to the CELERY OPTIONS argument, for `screen`.
    context_settings={"ignore_unknown_options": True},
)
@click.option(
    "--host-name",
    metavar="NAME",
    help="The Docker host this worker serves: its queue, its heartbeat, its containers' "
    "label (default: $DOCKFLEET_HOST_NAME, else this machine's name).",
)
@click.option(
    "--docker-host",
    metavar="URL",
    help="That host's engine, unix:// or tcp:// (its TLS files: DOCKFLEET_TLS_CA_CERT, "
    "DOCKFLEET_TLS_CERT, DOCKFLEET_TLS_KEY, or DOCKER_CERT_PATH) (default: "
    "$DOCKFLEET_DOCKER_HOST, else $DOCKER_HOST, else the local socket).",
)
@click.option(
    "--name",
    "-n",
    "--hostname",
    "node",
    metavar="NODE",
    help="Celery node name, one per worker (default: HOST_NAME@%h, %h this machine's name).",
)
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(min=1),
    help="Tasks it runs at once (default: $DOCKFLEET_WORKER_CONCURRENCY, else 4).",
)
@click.option(
    "--pool",
    "-P",
    type=click.Choice(POOLS),
    help="threads (~57 MB), prefork (~155 MB) or solo (default: $DOCKFLEET_WORKER_POOL, "
    "else threads).",
)
@click.option(
    "--loglevel",
    "-l",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    default="INFO",
    show_default=True,
    help="Log level.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the command and the variables it would run with (secrets masked); start nothing.",
)
@json_option("With --dry-run: print it as JSON (command, environment, node, warnings).")
@click.argument("celery_options", nargs=-1, type=click.UNPROCESSED, metavar="[CELERY OPTIONS]")
@click.pass_obj
def worker(
    state: Context,
    host_name: str | None,
    docker_host: str | None,
    node: str | None,
    concurrency: int | None,
    pool: str | None,
    loglevel: str,
    dry_run: bool,
    as_json: bool,
    celery_options: tuple[str, ...],
) -> None:
    """Start a worker that serves one Docker host (runs in the foreground)."""
    if as_json and not dry_run:
        raise click.UsageError(
            "--json goes with --dry-run (the worker's own log as JSON: DOCKFLEET_LOG_FORMAT=json)"
        )
    chosen: dict[str, Any] = {
        "host_name": host_name,
        "docker_host": docker_host,
        "worker_concurrency": concurrency,
        "worker_pool": pool,
    }
    chosen = {setting: value for setting, value in chosen.items() if value is not None}
    settings = checked_settings(state, chosen)
    screened = screen(celery_options, settings.worker_pool)
    node = node or node_name(settings.host_name)
    command = worker_command(node, loglevel.upper(), screened.passed)
    # The host name always: the worker's node name and its queue must name the same host.
    given = settings_environment(
        **{"host_name": settings.host_name, **chosen, "redis_url": state.redis_url_option}
    )
    if dry_run:
        shown = {name: _masked(name, value) for name, value in given.items()}
        if as_json:
            emit_json(
                {
                    "command": command,
                    "environment": shown,
                    "node": node,
                    "host_name": settings.host_name,
                    "warnings": screened.warnings,
                }
            )
            return
        _warn(screened.warnings)
        click.echo(shlex.join(command))
        click.echo("\n".join(f"  {name}={value}" for name, value in shown.items()))
        return
    _warn(screened.warnings)
    sys.stdout.flush()
    sys.stderr.flush()
    # Python's buffers would hold the worker's banner and early lines from a journal.
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **given}
    os.execvpe(command[0], command, env)


def checked_settings(state: Context, chosen: dict[str, Any]) -> Settings:
    """The settings the worker will read, with the options `chosen` on top; a bad option
    value is a usage error that names the option."""
    try:
        return Settings(**state.overrides, **chosen)
    except ValidationError as exc:
        problems = []
        for item in exc.errors(include_input=False, include_url=False):
            option = SETTING_OPTIONS.get(str(item["loc"][0]) if item["loc"] else "")
            if option is None:
                raise
            problems.append(f"{option}: {item['msg']}")
        raise click.UsageError("; ".join(problems)) from None


def _masked(name: str, value: str) -> str:
    return safe_url(value) if name == REDIS_URL_VARIABLE else value


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        click.echo(f"dockfleet: warning: {warning}", err=True)
