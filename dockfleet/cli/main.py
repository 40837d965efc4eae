"""Entry point of the ``dockfleet`` command: the group, shared context and error handling."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from pydantic import ValidationError

from dockfleet.client.fleet import Fleet
from dockfleet.errors import FleetError
from dockfleet.settings import Settings
from dockfleet.validation import describe


class Context:
    """What every command shares: the settings and one lazily made `Fleet`."""

    def __init__(self, redis_url: str | None) -> None:
        self.redis_url_option = redis_url
        self.settings = self.read_settings()
        self._fleet: Fleet | None = None

    def read_settings(self) -> Settings:
        """The settings from the environment, with ``--redis-url`` on top."""
        overrides: dict[str, Any] = (
            {"redis_url": self.redis_url_option} if self.redis_url_option else {}
        )
        return Settings(**overrides)

    @property
    def fleet(self) -> Fleet:
        if self._fleet is None:
            self._fleet = Fleet(self.settings)
        return self._fleet

    def close(self) -> None:
        if self._fleet is not None:
            self._fleet.close()


#: how `dockfleet --help` groups the commands, in the order a newcomer meets them
SECTIONS: dict[str, list[str]] = {
    "Local fleet": ["up", "down"],
    "CI jobs": ["run", "logs", "cancel"],
    "Containers": [
        "create", "start", "ps", "inspect", "stats", "stop", "restart", "kill", "wait", "rm",
    ],
    "Images": ["images", "pull", "build", "tag", "push", "rmi"],
    "Networks": ["network"],
    "Fleet": ["hosts", "info", "cleanup", "exporter"],
}  # fmt: skip


class SectionedGroup(click.Group):
    """A group whose help lists commands by section, like ``docker --help``."""

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
    Shell completion: eval "$(_DOCKFLEET_COMPLETE=bash_source dockfleet)"
    (zsh_source and fish_source for zsh and fish).
    """
    state = Context(redis_url)
    ctx.obj = state
    ctx.call_on_close(state.close)


def register_commands() -> None:
    """Import the command modules: each adds its commands to `cli`."""
    from dockfleet.cli import (  # noqa: F401
        containers,
        images,
        jobs,
        maintenance,
        networks,
        stats,
        system,
        up,
    )


def main() -> None:
    """Run the CLI; a user mistake is one line on stderr, never a traceback."""
    register_commands()
    try:
        cli.main(standalone_mode=False, prog_name="dockfleet")
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("dockfleet: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except FleetError as exc:
        click.echo(f"dockfleet: error: {exc}", err=True)
        sys.exit(1)
    except ValidationError as exc:
        click.echo(f"dockfleet: error: {describe(exc)}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:
        if os.environ.get("DOCKFLEET_DEBUG"):
            raise
        # Not a user mistake but a fault: still one line, with the way to see more.
        name = type(exc).__name__
        click.echo(
            f"dockfleet: internal error: {name}: {exc} (DOCKFLEET_DEBUG=1 shows more)", err=True
        )
        sys.exit(70)
