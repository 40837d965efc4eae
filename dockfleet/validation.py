"""Turns pydantic validation failures into `InvalidSpec` errors that name the field."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from dockfleet.errors import InvalidSpec

M = TypeVar("M", bound=BaseModel)


def describe(error: ValidationError, source: str | None = None) -> str:
    """One line per problem, ``field.path: message``; input values are left out (secrets).

    Args:
        source: what held the data (a job file's path) to start the line with, instead
            of ``invalid <Model>``.
    """
    parts = []
    for item in error.errors(include_input=False, include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or error.title
        parts.append(f"{where}: {item['msg']}")
    return f"{source or f'invalid {error.title}'}: " + "; ".join(parts)


def parse(model: type[M], data: Any) -> M:
    """Validate `data` as `model`, raising `InvalidSpec` instead of `ValidationError`."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidSpec(describe(exc)) from None
