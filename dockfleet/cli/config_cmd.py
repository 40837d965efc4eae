"""``dockfleet config``: the settings in force, each with where its value came from.

Secrets never show: the Redis URL's password and registry passwords are masked,
and so is every value read from the secrets folder.
"""

from __future__ import annotations

import json
from typing import Any

import click

from dockfleet.cli.main import Context, cli
from dockfleet.cli.options import json_option
from dockfleet.cli.output import emit_json, table
from dockfleet.client.transport import safe_url
from dockfleet.models.fields import MASK
from dockfleet.settings import Settings
from dockfleet.settings_names import leaves
from dockfleet.settings_origin import Origin
from dockfleet.settings_sources import ARGUMENT, ENV_FILE, SECRETS_DIR

#: the only argument the CLI gives `Settings`
ARGUMENT_OPTION = "--redis-url"


@cli.command("config")
@json_option("Print JSON: one object per setting (variable, setting, value, source, from).")
@click.pass_obj
def config(state: Context, as_json: bool) -> None:
    """Show the settings in force and where each came from.

    \b
    SOURCE is where a value was read, first first: an argument (--redis-url),
    env (DOCKFLEET_*), docker env (DOCKER_HOST...), the env file of `dockfleet up`,
    the secrets dir (one file a setting); else the default. Secrets are masked.
    """
    found = effective(state.settings, Settings.origins(**state.overrides))
    if as_json:
        emit_json(found)
        return
    table(
        ["VARIABLE", "VALUE", "SOURCE"],
        [[item["variable"], _text(item["value"]), _source_text(item)] for item in found],
    )


def effective(settings: Settings, origins: dict[tuple[str, ...], Origin]) -> list[dict[str, Any]]:
    """One row per setting: variable, dotted setting name, masked value, source, from."""
    dumped = settings.model_dump(mode="json")  # registry passwords come out masked
    rows = []
    for leaf in leaves(type(settings)):
        value: Any = dumped
        for part in leaf.path:
            value = value[part]
        origin = origins.get(leaf.path, Origin("default"))
        rows.append(
            {
                "variable": leaf.env,
                "setting": ".".join(leaf.path),
                "value": _masked(leaf.path, value, origin),
                "source": origin.kind,
                "from": _held_by(leaf.env, origin),
            }
        )
    return rows


def _masked(path: tuple[str, ...], value: Any, origin: Origin) -> Any:
    if origin.kind == SECRETS_DIR and value is not None:
        return MASK  # put there because it is a secret: none of it shows
    if path == ("redis_url",):
        return safe_url(str(value))
    return value


def _held_by(variable: str, origin: Origin) -> str | None:
    """What held the value, where that says more than the source: the env file, the
    secret file, the outer variable (DOCKFLEET_POLICY), DOCKER_HOST, the option."""
    if origin.kind == ARGUMENT:
        return ARGUMENT_OPTION
    if origin.kind == ENV_FILE:
        return origin.where
    return origin.variable if origin.variable not in ("", variable) else None


def _source_text(item: dict[str, Any]) -> str:
    held_by = item["from"]
    return f"{item['source']} ({held_by})" if held_by else str(item["source"])


def _text(value: Any) -> str:
    """A value as one would type it back: lists comma-separated, the rest as JSON."""
    if value is None:
        return "unset"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) and "," not in v for v in value):
        return ",".join(value) if value else "[]"
    return json.dumps(value)
