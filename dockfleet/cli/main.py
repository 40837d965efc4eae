"""Entry point of the ``dockfleet`` command: the group, shared context and error handling.

Exit status, like ``docker run``: what a command or a job itself ends with, and
125 when dockfleet failed (a usage error, Redis down or refusing the password,
a refusal of the policy, no live host, an internal error), so that a pipeline
tells "the fleet broke" from "the tests failed".
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, NoReturn

import click
from pydantic import ValidationError

from dockfleet import settings_names
from dockfleet.client.fleet import Fleet
from dockfleet.client.transport import REDIS_FAILURES, fleet_errors
from dockfleet.errors import FleetError
from dockfleet.settings import FLEET_ENV_FILE, Settings
from dockfleet.validation import describe

#: the exit status of every failure of dockfleet itself (docker run's)
FLEET_FAILED = 125


class Context:
    """What every command shares: the settings and one lazily made `Fleet`."""

    def __init__(self, redis_url: str | None) -> None:
        self.redis_url_option = redis_url
        #: what the options give `Settings`, on top of its sources
        self.overrides: dict[str, Any] = {"redis_url": redis_url} if redis_url else {}
        self.settings = self.read_settings()
        self._fleet: Fleet | None = None

    @property
    def url_source(self) -> str:
        """Where the Redis URL came from, for the advice when Redis fails ("": the default)."""
        if self.redis_url_option:
            return "--redis-url"
        if os.environ.get("DOCKFLEET_REDIS_URL"):
            return "DOCKFLEET_REDIS_URL"
        if "redis_url" in self.settings.model_fields_set:
            return f"{self.settings.state_dir / FLEET_ENV_FILE} (written by `dockfleet up`)"
        return ""

    def read_settings(self) -> Settings:
        """The settings from the environment, with ``--redis-url`` on top."""
        return Settings(**self.overrides)

    @property
    def fleet(self) -> Fleet:
        if self._fleet is None:
            self._fleet = Fleet(self.settings, url_source=self.url_source)
        return self._fleet

    def close(self) -> None:
        if self._fleet is not None:
            self._fleet.close()


#: how `dockfleet --help` groups the commands, in the order a newcomer meets them
SECTIONS: dict[str, list[str]] = {
    "Local fleet": ["up", "down"],
    "CI jobs": ["run", "logs", "artifacts", "cancel", "cache"],
    "Containers": [
        "create", "start", "ps", "inspect", "stats", "stop", "restart", "kill", "wait", "rm",
    ],
    "Images": ["images", "pull", "build", "tag", "push", "rmi"],
    "Networks": ["network"],
    "Fleet": ["hosts", "info", "cleanup", "exporter", "config", "worker"],
}  # fmt: skip


class SectionedGroup(click.Group):
    """A group whose help lists commands by section, like ``docker --help``, and whose
    commands report a failing Redis as one line that says what to do."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except REDIS_FAILURES:
            state = ctx.obj
            if not isinstance(state, Context):
                raise
            with fleet_errors(state.settings.redis_url, state.url_source):
                raise

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        placed: set[str] = set()
        for section, names in [*SECTIONS.items(), ("Other", sorted(self.commands))]:
            rows = []
            for name in names:
                command = self.get_command(ctx, name)
                if command is None or command.hidden or name in placed:
                    continue
                placed.add(name)
                rows.append((name, command.get_short_help_str(limit=formatter.width - 14)))
            if rows:
                with formatter.section(section):
                    formatter.write_dl(rows)


@click.group(cls=SectionedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--redis-url",
    metavar="URL",
    help="Redis of the fleet (default: $DOCKFLEET_REDIS_URL, else the fleet of `dockfleet up`, "
    "else redis://localhost:6379/0).",
)
@click.version_option(package_name="dockfleet")
@click.pass_context
def cli(ctx: click.Context, redis_url: str | None) -> None:
    """Run the Docker work of CI/CD pipelines on a fleet of Docker hosts.

    A Celery worker bound to each Docker host runs what you send; Redis carries
    the work and its results; Flower shows it live.

    \b
    First steps on one machine (Docker engine and redis-server installed):
      dockfleet up -d                              # Redis, a worker, beat, Flower
      dockfleet run busybox:local -- echo hello    # a CI job: live log, its exit code
      dockfleet hosts                              # the fleet's Docker hosts
      dockfleet stats --no-stream                  # what the containers use
      dockfleet down                               # stop it all

    \b
    `dockfleet COMMAND -h` explains a command; every listing takes --json.
    Settings are DOCKFLEET_* environment variables (README: Configuration).
    Exit status: `run` exits with the job's own code; 125 when dockfleet itself
    failed (a usage error, Redis, a policy refusal, no live host...), as docker run.
    Shell completion: eval "$(_DOCKFLEET_COMPLETE=bash_source dockfleet)"
    (zsh_source and fish_source for zsh and fish).
    """
    state = Context(redis_url)
    ctx.obj = state
    ctx.call_on_close(state.close)


def register_commands() -> None:
    """Import the command modules: each adds its commands to `cli`."""
    from dockfleet.cli import (  # noqa: F401
        artifacts,
        caches,
        config_cmd,
        containers,
        images,
        jobs,
        maintenance,
        networks,
        stats,
        system,
        transfers,
        up,
        worker_cmd,
    )


def main() -> None:
    """Run the CLI; a failure is one line on stderr and exit 125, never a traceback."""
    register_commands()
    warnings_as_lines()
    try:
        cli.main(standalone_mode=False, prog_name="dockfleet")
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("dockfleet: aborted", err=True)
        sys.exit(130)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.format_message())  # `dockfleet`, `dockfleet network`: the help, as docker
        sys.exit(0)
    except click.UsageError as exc:
        problem = _one_line(exc.format_message())
        if exc.ctx:
            stop = "" if problem.endswith((".", "?", ")")) else "."
            problem += f"{stop} See '{exc.ctx.command_path} --help'."
        fleet_failed(f"error: {problem}")
    except click.ClickException as exc:
        fleet_failed(f"error: {_one_line(exc.format_message())}")
    except FleetError as exc:
        fleet_failed(f"error: {exc}")  # lines of a service's log may follow (ServiceNotReady)
    except ValidationError as exc:
        fleet_failed(f"error: {describe(exc)}")
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:
        if os.environ.get("DOCKFLEET_DEBUG"):
            raise
        # Not a user mistake but a fault: still one line, with the way to see more.
        name = type(exc).__name__
        fleet_failed(
            f"internal error: {name}: {_one_line(str(exc))} (DOCKFLEET_DEBUG=1 shows more)"
        )


def warnings_as_lines() -> None:
    """Warnings of the settings (an unknown DOCKFLEET_* name) as ``dockfleet: warning:``
    lines on stderr, as the CLI says everything else."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("dockfleet: warning: %(message)s"))
    settings_log = logging.getLogger(settings_names.__name__)
    settings_log.addHandler(handler)
    settings_log.propagate = False


def fleet_failed(message: str) -> NoReturn:
    """`message` on stderr and exit 125: dockfleet failed, not the job it ran."""
    click.echo(f"dockfleet: {message}", err=True)
    sys.exit(FLEET_FAILED)


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in text.splitlines() if line.strip())
