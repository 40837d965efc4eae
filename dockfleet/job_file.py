"""Job files: a `JobSpec` written as YAML or JSON, its values from the environment
resolved on the producer.

A job file holds the model's own fields (``container``, ``services``, ``timeout``,
``secret_env``, ``labels``...; top-level keys starting with ``x-`` are left out, for
YAML anchors, as in compose files). Under ``env``, ``secret_env`` and ``labels`` (of
the job, its container and each service's container) a value may be
``{from_env: NAME}``, the caller's variable NAME, or ``{from_file: PATH}``, a file's
text without its trailing newline (a secret as Docker and Kubernetes mount them; a
relative PATH is relative to the job file); a bare ``KEY`` item of an ``env`` list
takes the caller's KEY, as compose does. They are resolved here, once: only values
travel, and a secret is written neither in the file nor on a command line.

`overlay` is how command-line flags apply over a loaded file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dockfleet.env_sources import from_environment, read_secret_file, read_text
from dockfleet.errors import InvalidSpec
from dockfleet.models.jobs import JobSpec
from dockfleet.validation import describe

#: the fields whose values may come from the environment or a file
RESOLVED_FIELDS = ("env", "secret_env", "labels")
#: lists that flags add to, and how an item is known (a flag's item replaces the file's)
KEYED_LISTS: dict[str, Callable[[Any], Any]] = {
    "env": lambda item: str(item).partition("=")[0],
    "services": lambda service: service.get("alias"),
    # a cache is {key, path} in a loaded file, KEY:PATH from a flag
    "caches": lambda c: c.get("key") if isinstance(c, dict) else str(c).partition(":")[0],
    "cap_add": lambda name: str(name).upper().removeprefix("CAP_"),
    "artifacts": str,
}


def load_job_file(path: str | Path, environ: Mapping[str, str] | None = None) -> JobSpec:
    """The `JobSpec` of a job file (YAML or JSON: JSON is YAML).

    Args:
        environ: where ``from_env`` looks (default: this process's environment).

    Raises:
        InvalidSpec: the file cannot be read or parsed, a variable is not set, or a field
            is unknown or invalid; the message names the file and the field's path.
    """
    data = read_job_file(path, os.environ if environ is None else environ)
    try:
        return JobSpec.model_validate(data)
    except ValidationError as exc:
        raise InvalidSpec(describe(exc, source=str(path))) from None


def read_job_file(path: str | Path, environ: Mapping[str, str]) -> dict[str, Any]:
    """The fields of a job file with every ``from_env``/``from_file`` resolved (not validated)."""
    try:
        data = yaml.safe_load(read_text(path, "job file"))
    except yaml.YAMLError as exc:
        raise InvalidSpec(f"{path}: {_yaml_problem(exc)}") from None
    if data is None:
        raise InvalidSpec(f"{path}: the file is empty (it needs at least container.image)")
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise InvalidSpec(
            f"{path}: expected a mapping of job fields (container, ...), not a {kind}"
        )
    data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    return _Resolver(Path(path), environ).job(data)


def overlay(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """Job fields `top` laid over `base`, as command-line flags over a job file.

    A value replaces the base's; a mapping (``labels``, ``volumes``, ``container``...)
    is overlaid key by key; the lists of `KEYED_LISTS` (``env``, ``services``,
    ``cap_add``, ``caches``, ``artifacts``) are added to, an item replacing the base's item
    of the same key.
    """
    merged = dict(base)
    for key, value in top.items():
        old = merged.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            merged[key] = overlay(old, value)
        elif key in KEYED_LISTS and isinstance(value, list) and isinstance(old, list):
            known = KEYED_LISTS[key]
            mine = {known(item) for item in value}
            merged[key] = [item for item in old if known(item) not in mine] + value
        else:
            merged[key] = value
    return merged


class _Resolver:
    """Replaces the ``from_env``/``from_file`` values of one job file."""

    def __init__(self, path: Path, environ: Mapping[str, str]) -> None:
        self.path = path
        self.environ = environ

    def job(self, data: dict[str, Any]) -> dict[str, Any]:
        data = self.fields(data, "")
        if "container" in data:
            data["container"] = self.fields(data["container"], "container.")
        services = data.get("services")
        if isinstance(services, list):
            data["services"] = [self.service(s, f"services.{i}.") for i, s in enumerate(services)]
        return data

    def service(self, service: Any, where: str) -> Any:
        if not isinstance(service, dict) or "container" not in service:
            return service
        return {**service, "container": self.fields(service["container"], f"{where}container.")}

    def fields(self, section: Any, where: str) -> Any:
        if not isinstance(section, dict):
            return section
        resolved = dict(section)
        for name in RESOLVED_FIELDS:
            value = section.get(name)
            if isinstance(value, dict):
                resolved[name] = {k: self.value(v, f"{where}{name}.{k}") for k, v in value.items()}
            elif name == "env" and isinstance(value, list):
                resolved[name] = [self.item(v, f"{where}env.{i}") for i, v in enumerate(value)]
        return resolved

    def value(self, value: Any, where: str) -> Any:
        if not isinstance(value, dict):
            return value
        source = next(iter(value), None)
        if len(value) != 1 or source not in ("from_env", "from_file"):
            raise InvalidSpec(
                f"{self.path}: {where}: expected text, {{from_env: NAME}} or {{from_file: PATH}}"
            )
        name = value[source]
        if not isinstance(name, str) or not name:
            raise InvalidSpec(f"{self.path}: {where}.{source}: expected a name")
        if source == "from_env":
            return from_environment(name, self.environ, f"{self.path}: {where}")
        return read_secret_file(self.path.parent / Path(name).expanduser(), f"{self.path}: {where}")

    def item(self, item: Any, where: str) -> Any:
        # A bare KEY in an env list: the caller's variable, as in compose files.
        if isinstance(item, str) and item and "=" not in item:
            return f"{item}={from_environment(item, self.environ, f'{self.path}: {where}')}"
        return item


def _yaml_problem(error: yaml.YAMLError) -> str:
    # Not str(error): it quotes the line, which may hold a secret.
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        context = ""
        if error.context and error.context_mark is not None:
            context = f" ({error.context} at line {error.context_mark.line + 1})"
        return f"line {mark.line + 1}, column {mark.column + 1}: {error.problem}{context}"
    return "not valid YAML or JSON"
