"""Where each setting's value came from, and a bad value's error that names its variable.

`dockfleet config` shows every setting with its `Origin` (default, env, env file,
secrets dir...); `config_error` turns pydantic's ``max_containers: Input should be a
valid integer`` into ``DOCKFLEET_MAX_CONTAINERS (env): ...`` with what the setting
expects. Neither ever shows a value: it may be a secret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from dockfleet.errors import ConfigError
from dockfleet.settings_names import env_name, is_list, is_mapping, leaves, nested_model
from dockfleet.settings_sources import ARGUMENT, DEFAULT, NamedSource

#: what a setting expects, added to pydantic's message where that says only "a valid list"
EXPECTED_LIST = "a comma-separated list, or a JSON list"
EXPECTED_OBJECT = "a JSON object"


@dataclass(frozen=True)
class Origin:
    """Where a value came from: `kind` (``default``, ``env``, ``secrets dir``...), the
    `variable` (or secret file) that held it, and the file or folder `where` it was read."""

    kind: str
    variable: str = ""
    where: str = ""

    def __str__(self) -> str:
        return f"{self.kind} {self.where}" if self.where else self.kind


Values = Sequence[tuple[NamedSource, Mapping[str, Any]]]


def read(sources: Sequence[NamedSource]) -> Values:
    """Each source with the values it gives, in order of precedence."""
    return [(named, named.source()) for named in sources]


def origin_of(path: Sequence[str], values: Values) -> Origin:
    """The origin of the setting at `path`: the first source that gives it."""
    for named, data in values:
        if _holds(data, path):
            return Origin(named.kind, named.variable(path), named.where)
    return Origin(DEFAULT)


def _holds(data: Mapping[str, Any], path: Sequence[str]) -> bool:
    current: Any = data
    for part in path:
        if not isinstance(current, Mapping) or part not in current:
            return False
        current = current[part]
    return True


def origins(
    model: type[BaseModel], sources: Sequence[NamedSource]
) -> dict[tuple[str, ...], Origin]:
    """The origin of every setting of `model`, by path."""
    values = read(sources)
    return {leaf.path: origin_of(leaf.path, values) for leaf in leaves(model)}


def config_error(
    error: ValidationError, model: type[BaseModel], sources: Sequence[NamedSource]
) -> ConfigError | None:
    """The `ConfigError` that `error` means, naming each bad setting's variable, source
    and what it expects; None when only arguments were bad (a caller's bug, not config)."""
    values = read(sources)
    problems = []
    from_config = False
    for item in error.errors(include_input=False, include_url=False):
        path = setting_path(item["loc"], model)
        origin = origin_of(path, values)
        from_config = from_config or origin.kind != ARGUMENT
        message = str(item["msg"]).removeprefix("Value error, ")
        expected = _expected(model, path, str(item["type"]))
        variable = origin.variable or env_name(path)
        problems.append(
            f"{variable} ({origin}): {message}" + (f" (expected {expected})" if expected else "")
        )
    if not from_config:
        return None
    noun = "setting" if len(problems) == 1 else "settings"
    return ConfigError(f"invalid {noun}: " + "; ".join(problems))


def setting_path(loc: Sequence[Any], model: type[BaseModel]) -> tuple[str, ...]:
    """The setting an error location points into: ("policy", "allowed_images", 0) ->
    ("policy", "allowed_images")."""
    path: list[str] = []
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None or part not in current.model_fields:
            break
        path.append(str(part))
        current = nested_model(current.model_fields[str(part)])
    return tuple(path)


def _expected(model: type[BaseModel], path: Sequence[str], kind: str) -> str:
    if kind not in ("list_type", "dict_type", "model_type", "model_attributes_type"):
        return ""
    current: type[BaseModel] | None = model
    for part in path[:-1]:
        current = nested_model(current.model_fields[part]) if current else None
    field = current.model_fields[path[-1]] if current and path else None
    if field is not None and is_list(field):
        return EXPECTED_LIST
    if field is not None and nested_model(field) is not None:
        return f"{EXPECTED_OBJECT}, or one variable per field: {env_name(path)}__<FIELD>"
    if field is not None and is_mapping(field):
        return EXPECTED_OBJECT
    return ""
