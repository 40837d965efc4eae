"""Field types the models share: label selectors, env lists and secrets that dump masked.

A secret (`SecretStr`) is shown in the clear in exactly one dump: the one made
for the message to the worker, ``model_dump(mode="json", context={"reveal_secrets": True})``.
Every other dump — results, logs, Flower's argsrepr — shows ``***``.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, SecretStr
from pydantic_core.core_schema import SerializationInfo

MASK = "***"
#: an environment variable's name: anything but "=", blanks and NUL
ENV_KEY_RE = re.compile(r"^[^=\s\x00]+$")


def reveals(info: SerializationInfo) -> bool:
    """Whether this dump is the one for the wire to the worker."""
    return bool((info.context or {}).get("reveal_secrets"))


def _dump_secret(value: SecretStr, info: SerializationInfo) -> str:
    return value.get_secret_value() if reveals(info) else MASK


def _dump_secret_map(value: dict[str, SecretStr], info: SerializationInfo) -> dict[str, str]:
    return {key: _dump_secret(secret, info) for key, secret in value.items()}


def _labels_from_list(value: object) -> object:
    # Accept docker's CLI form too: ["k=v", "k"] (a bare key: "has the label").
    if isinstance(value, list | tuple):
        pairs = (str(item).partition("=") for item in value)
        return {k: (v if sep else None) for k, sep, v in pairs}
    return value


def _env_from_mapping(value: object) -> object:
    # Compose's other form, {KEY: VALUE}; numbers and booleans as YAML reads them, in text.
    if not isinstance(value, dict):
        return value
    items = []
    for key, item in value.items():
        if isinstance(item, bool):
            item = str(item).lower()
        elif not isinstance(item, str | int | float):
            raise ValueError(f"{key!r}: a value must be text or a number")
        items.append(f"{key}={item}")
    return items


#: env variables as "KEY=VALUE" items; also from a mapping {KEY: VALUE}
EnvList = Annotated[list[str], BeforeValidator(_env_from_mapping)]
#: a secret string, masked in every dump but the worker's
Secret = Annotated[SecretStr, PlainSerializer(_dump_secret, return_type=str)]


def _variable_names(value: dict[str, SecretStr]) -> dict[str, SecretStr]:
    for key in value:
        if not ENV_KEY_RE.match(key):
            raise ValueError(f"{key!r} is not a valid variable name")
    return value


#: name -> secret value (secret env variables), masked likewise
SecretMap = Annotated[
    dict[str, SecretStr],
    AfterValidator(_variable_names),
    PlainSerializer(_dump_secret_map, return_type=dict[str, str]),
]
#: label key -> value, or -> None for "has the label"; also from ["k=v", "k"]
LabelSelector = Annotated[dict[str, str | None], BeforeValidator(_labels_from_list)]
