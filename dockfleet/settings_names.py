"""The names of the settings (``DOCKFLEET_*``), and a warning for a name that is none.

pydantic-settings ignores a variable it does not know, so a typo such as
``DOCKFLEET_MAX_CONTANERS=5`` would leave the default in force without a word.
`warn_unknown` names such a variable once per process, with the closest real name.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from dockfleet.logconfig import event

log = logging.getLogger(__name__)

PREFIX = "DOCKFLEET_"
DELIMITER = "__"

#: DOCKFLEET_* names that are not settings but are read elsewhere: the CLI's debug switch,
#: the knobs of docker-compose.yml and of scripts/ (set in the operator's shell, beside
#: DOCKFLEET_REDIS_URL), and the test and benchmark suites' engines
NOT_SETTINGS = frozenset(
    {
        "DOCKFLEET_DEBUG",
        "DOCKFLEET_IMAGE",
        "DOCKFLEET_BASE_IMAGE",
        "DOCKFLEET_REDIS_IMAGE",
        "DOCKFLEET_REDIS_PASSWORD",
        "DOCKFLEET_REDIS_PORT",
        "DOCKFLEET_LOCAL_HOST_NAME",
        "DOCKFLEET_EXPORTER_PORT",
        "DOCKFLEET_SECRETS",
        "DOCKFLEET_HEALTH_INTERVAL",
        "DOCKFLEET_LOG_MAX_SIZE",
        "DOCKFLEET_LOG_MAX_FILE",
        "DOCKFLEET_BASE_SUITE",
        "DOCKFLEET_BASE_MIRROR",
        "DOCKFLEET_DEMO_STATE_DIR",
        "DOCKFLEET_TEST_DOCKER_HOST",
        "DOCKFLEET_BENCH_DOCKER_HOST",
    }
)

_warned: set[str] = set()


@dataclass(frozen=True)
class Leaf:
    """One setting as a variable: ``DOCKFLEET_POLICY__MAX_MEMORY`` is ``policy.max_memory``."""

    env: str
    path: tuple[str, ...]
    field: FieldInfo


def leaves(
    model: type[BaseModel], prefix: str = PREFIX, path: tuple[str, ...] = ()
) -> Iterator[Leaf]:
    """Every setting of `model`, nested models flattened with ``__``, in declaration order."""
    for name, field in model.model_fields.items():
        env, where = prefix + name.upper(), (*path, name)
        nested = nested_model(field)
        if nested is not None:
            yield from leaves(nested, env + DELIMITER, where)
        else:
            yield Leaf(env, where, field)


def nested_model(field: FieldInfo) -> type[BaseModel] | None:
    """The model a field holds (`Settings.policy`), None for a plain value."""
    kind = field.annotation
    return kind if isinstance(kind, type) and issubclass(kind, BaseModel) else None


def env_name(path: Iterable[str]) -> str:
    """The variable of a setting: ("policy", "max_memory") -> DOCKFLEET_POLICY__MAX_MEMORY."""
    return PREFIX + DELIMITER.join(part.upper() for part in path)


def is_mapping(field: FieldInfo) -> bool:
    """A dict setting, whose keys may be set one by one (``DOCKFLEET_REGISTRY_AUTH__<key>``)."""
    return _origin(field.annotation) is dict


def is_list(field: FieldInfo) -> bool:
    return _origin(field.annotation) is list


def _origin(annotation: Any) -> Any:
    # `list[str] | None` counts as a list: look through the union for the one container
    origins = {get_origin(arg) for arg in get_args(annotation)} - {None}
    return get_origin(annotation) or (origins.pop() if len(origins) == 1 else None)


def unknown(names: Iterable[str], model: type[BaseModel]) -> list[tuple[str, str | None]]:
    """The names among `names` (any case) that `model` does not read, each with the
    closest real one (None when nothing is close)."""
    found = list(leaves(model))
    models = {env_name(leaf.path[:-1]) for leaf in found if len(leaf.path) > 1}
    known = {leaf.env for leaf in found} | models
    open_ended = tuple(leaf.env + DELIMITER for leaf in found if is_mapping(leaf.field))
    result = []
    for name in sorted({n.upper() for n in names if n.upper().startswith(PREFIX)}):
        if name in known or name in NOT_SETTINGS or name.startswith(open_ended):
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1)
        result.append((name, close[0] if close else None))
    return result


def warn_unknown(names: Iterable[str], model: type[BaseModel], where: str = "environment") -> None:
    """Log each unknown name of `names` once per process (a worker builds its settings
    more than once), with the closest real name."""
    for name, close in unknown(names, model):
        if name in _warned:
            continue
        _warned.add(name)
        event(
            log,
            "settings.unknown",
            "{variable} (in the {source}) is not a dockfleet setting and is ignored{_hint}",
            level=logging.WARNING,
            variable=name,
            source=where,
            suggestion=close,
            _hint=f"; did you mean {close}?" if close else "",
        )
