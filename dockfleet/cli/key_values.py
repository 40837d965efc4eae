"""The KEY=VALUE items of the command line, parsed in one place: ``--filter`` items as the
fields of a filter model, ``--label``, ``--opt`` and ``--build-arg`` items as a dict."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dockfleet.errors import InvalidSpec


def parse_filters(
    items: Iterable[str], *, lists: Mapping[str, str], single: Iterable[str] = ()
) -> dict[str, Any]:
    """The fields of a filter model that ``--filter`` items set.

    Args:
        lists: a repeatable key -> the list field that collects its values
            (``{"label": "labels"}``); each such field is in the result, maybe empty.
        single: keys that are fields of their own; a later item replaces an earlier one.

    Raises:
        InvalidSpec: an item that is not KEY=VALUE of one of those keys.
    """
    keys = [*lists, *single]
    fields: dict[str, Any] = {field: [] for field in lists.values()}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in keys:
            choices = ", ".join(f"{k}=..." for k in keys[:-1]) + f" or {keys[-1]}=..."
            raise InvalidSpec(f"--filter: {item!r} is not {choices}")
        if key in lists:
            fields[lists[key]].append(value)
        else:
            fields[key] = value
    return fields


def pairs(items: Iterable[str] | None, option: str, *, need_value: bool = True) -> dict[str, str]:
    """``KEY=VALUE`` items (``--label``, ``--opt``, ``--build-arg``) as a dict, a later key
    replacing an earlier one; with ``need_value=False`` a bare ``KEY`` is ``KEY=``."""
    result = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not key or (need_value and not sep):
            form = "KEY=VALUE" if need_value else "KEY[=VALUE]"
            raise InvalidSpec(f"{option}: {item!r} is not {form}")
        result[key] = value
    return result
