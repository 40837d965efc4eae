"""Celery's own worker options that ``dockfleet worker`` passes through, screened first.

Which options exist and which take a value is Celery's own table
(`celery.bin.worker.worker`, of the pinned 5.7), so an unknown option is one line
here rather than Celery's usage text after the exec. The fleet's rules on top: an
option that would break the fleet is refused with the reason, a risky one passes
with a warning. The options that are settings (-n, -c, -P, -l) are
``dockfleet worker``'s own and never reach this screen.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import click

_QUEUES = (
    "a worker consumes the queues of its host (--host-name) and the shared ones; on others "
    "it would take jobs meant for another host, or leave its host's waiting"
)
_TIME_LIMITS = (
    "every task has its own limits and a CI job its --timeout; a limit for the whole worker "
    "would cut long jobs"
)

#: Celery option (its parameter name) -> why the fleet refuses it
REFUSED = {
    "queues": _QUEUES,
    "exclude_queues": _QUEUES,
    "detach": "dockfleet worker stays in the foreground, where systemd and docker follow it",
    "purge": "it deletes the waiting job messages of the whole fleet, every host's",
    "time_limit": _TIME_LIMITS,
    "soft_time_limit": _TIME_LIMITS,
}
#: Celery option -> what to know when it is passed anyway
WARNED = {
    "without_heartbeat": "Flower will show this worker offline (the fleet's own heartbeat, "
    "in Redis, still runs)",
    "beat": "one beat leads the fleet and any other stands by; a beat service of its own "
    "(celery -A worker.app beat) is easier to watch",
    "prefetch_multiplier": "a worker that reserves more jobs than it runs keeps them "
    "waiting behind its running ones while other hosts are idle",
}
#: options that only a prefork pool uses (another pool ignores them without a word)
PREFORK_ONLY = ("autoscale", "max_tasks_per_child", "max_memory_per_child", "pool_start_method")


@dataclass
class Screened:
    """The options to pass to Celery, in the order given, and the warnings about them."""

    passed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def screen(args: Sequence[str], pool: str) -> Screened:
    """`args` checked against Celery's worker options and the fleet's rules, for a worker
    whose pool is `pool`.

    Raises:
        click.UsageError: an unknown option, a stray argument, or a refused option.
    """
    result = Screened()
    if not args:
        return result
    known = _celery_worker_options()
    tokens = deque(args)
    while tokens:
        token = tokens.popleft()
        name, attached = _split(token)
        param = known.get(name)
        if param is None:
            raise click.UsageError(
                f"no such option: {name} (Celery's worker options: celery worker --help)"
            )
        option = [token]
        if param.is_flag and attached is not None and not name.startswith("--"):
            # Short flags written together (-EB): each is screened on its own.
            option = [name]
            tokens.appendleft("-" + attached)
        elif not param.is_flag and attached is None:
            if not tokens:
                raise click.UsageError(f"option {name} requires an argument")
            option.append(tokens.popleft())
        key = param.name or ""
        if key in REFUSED:
            raise click.UsageError(f"{name} is refused: {REFUSED[key]}")
        if key in WARNED:
            result.warnings.append(f"{name}: {WARNED[key]}")
        if key in PREFORK_ONLY and pool != "prefork":
            result.warnings.append(
                f"{name} has no effect with the {pool} pool (use --pool prefork)"
            )
        result.passed += option
    return result


def _split(token: str) -> tuple[str, str | None]:
    """An option token as (name, attached value): ``--x=1``, ``-Q1``; a stray argument fails."""
    if token.startswith("--"):
        name, eq, value = token.partition("=")
        return name, (value if eq else None)
    if token.startswith("-") and len(token) > 1:
        return token[:2], (token[2:] or None)
    raise click.UsageError(f"unexpected argument {token!r}: dockfleet worker takes options only")


def _celery_worker_options() -> dict[str, click.Option]:
    # Imported here: half a second of Celery that other commands, and a worker started
    # without Celery options, never need.
    from celery.bin.worker import worker

    found: dict[str, click.Option] = {}
    for param in worker.params:
        if isinstance(param, click.Option):
            for name in [*param.opts, *param.secondary_opts]:
                found[name] = param
    return found
