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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--redis-url",
    metavar="URL",
    help="Redis of the fleet (default: $DOCKFLEET_REDIS_URL or redis://localhost:6379/0).",
)
@click.version_option(package_name="dockfleet")
@click.pass_context
def cli(ctx: click.Context, redis_url: str | None) -> None:
    """Run CI/CD Docker work on a fleet of Docker hosts through Celery workers.

    \b
    CI jobs:     run, logs JOB, cancel
    Containers:  create, start, ps, logs, inspect, stop, restart, kill, rm, wait, stats
    Images:      images, pull, push, build, tag, rmi
    Networks:    network create|ls|rm|connect|disconnect|inspect
    Fleet:       hosts, info, cleanup, exporter
    Every listing takes --json for machines.
    """
    state = Context(redis_url)
    ctx.obj = state
    ctx.call_on_close(state.close)


def main() -> None:
    """Run the CLI; a user mistake is one line on stderr, never a traceback."""
    from dockfleet.cli import (  # noqa: F401  (registers the commands)
        containers,
        images,
        jobs,
        maintenance,
        networks,
        stats,
        system,
        up,
    )

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
