"""Field types the models share: user labels, label selectors, env lists, masked secrets.

A secret (`SecretStr`) is shown in the clear in exactly one dump: the one made
for the message to the worker, ``model_dump(mode="json", context={"reveal_secrets": True})``.
Every other dump — results, logs, Flower's argsrepr — shows ``***``.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, SecretStr
from pydantic_core.core_schema import SerializationInfo

from dockfleet.names import check_user_labels

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
        _variable_name(str(key))  # "A=B: x" would read as A="B=x"
        if isinstance(item, bool):
            item = str(item).lower()
        elif not isinstance(item, str | int | float):
            raise ValueError(f"{key!r}: a value must be text or a number")
        items.append(f"{key}={item}")
    return items


# No message here quotes a value: it may be a secret (the engine would quote one with a
# NUL in its error, so that is refused here, naming only the key).


def _variable_name(key: str) -> str:
    if not ENV_KEY_RE.match(key):
        raise ValueError(f"{key!r} is not a valid variable name")
    return key


def _env_value(value: str) -> str:
    if "\x00" in value:
        raise ValueError("a value cannot hold a NUL character")
    return value


def _env_item(item: str) -> str:
    key, sep, value = item.partition("=")
    if not sep:
        raise ValueError("not KEY=VALUE (no '=')")
    _variable_name(key)
    _env_value(value)
    return item


def _secret_value(value: SecretStr) -> SecretStr:
    _env_value(value.get_secret_value())
    return value


#: env variables as "KEY=VALUE" items (an error names the item's index and key only);
#: also from a mapping {KEY: VALUE}
EnvList = Annotated[
    list[Annotated[str, AfterValidator(_env_item)]], BeforeValidator(_env_from_mapping)
]
#: a secret string, masked in every dump but the worker's
Secret = Annotated[SecretStr, PlainSerializer(_dump_secret, return_type=str)]
#: name -> secret value (secret env variables), masked likewise
SecretMap = Annotated[
    dict[
        Annotated[str, AfterValidator(_variable_name)],
        Annotated[SecretStr, AfterValidator(_secret_value)],
    ],
    PlainSerializer(_dump_secret_map, return_type=dict[str, str]),
]
#: labels a user sets on what the fleet makes (keys starting with "dockfleet." refused)
UserLabels = Annotated[dict[str, str], AfterValidator(check_user_labels)]
#: label key -> value, or -> None for "has the label"; also from ["k=v", "k"]
LabelSelector = Annotated[dict[str, str | None], BeforeValidator(_labels_from_list)]
