"""The places `Settings` reads, each read as a person writes it.

pydantic-settings decodes every list and dict setting as JSON, so
``DOCKFLEET_POLICY__ALLOWED_HOST_PATHS=/srv/ci`` failed before validation with a bare
``SettingsError``. Here a list is a JSON list or comma-separated items
(``/srv/ci,/srv/cache``); any other value that is not JSON goes on as text, so that
validation says which variable is wrong and what it expects (`settings_origin`).

A `NamedSource` is a source with what `dockfleet config` and the errors call it:
``env``, ``env file``, ``secrets dir``...
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import (
    DotEnvSettingsSource,
    EnvSettingsSource,
    NestedSecretsSettingsSource,
    PydanticBaseSettingsSource,
)

from dockfleet.errors import ConfigError
from dockfleet.settings_names import PREFIX, env_name, is_list

#: what a setting holds when no source gives it
DEFAULT = "default"
#: the values given to ``Settings(...)`` (in the CLI: ``--redis-url``)
ARGUMENT = "argument"
ENV = "env"
DOCKER_ENV = "docker env"
ENV_FILE = "env file"
SECRETS_DIR = "secrets dir"

#: the Docker variable behind each setting that `docker_env` fills (the TLS files all
#: come from DOCKER_CERT_PATH, or from ~/.docker when only DOCKER_TLS_VERIFY is set)
DOCKER_VARIABLES = {"docker_host": "DOCKER_HOST", "api_version": "DOCKER_API_VERSION"}
DOCKER_TLS_VARIABLES = "DOCKER_CERT_PATH/DOCKER_TLS_VERIFY"


def split_list(value: str) -> list[str]:
    """``a, b,,c`` -> ["a", "b", "c"]: blanks around items and empty items dropped."""
    return [item.strip() for item in value.split(",") if item.strip()]


class ForgivingDecode(PydanticBaseSettingsSource):
    """Lists as JSON or comma-separated items; other text left for validation to judge."""

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        text = value.strip() if isinstance(value, str) else None
        if text is not None and field is not None and is_list(field) and not text.startswith("["):
            return split_list(text)
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:
            # Not JSON: validation then names the variable and what it expects
            # (a bare SettingsError named neither).
            return value


class EnvSource(ForgivingDecode, EnvSettingsSource):
    """The ``DOCKFLEET_*`` environment variables."""


class EnvFileSource(ForgivingDecode, DotEnvSettingsSource):
    """An env file (the one `dockfleet up` writes)."""


class SecretsDirSource(ForgivingDecode, NestedSecretsSettingsSource):
    """One file per setting in a folder, as Docker and Kubernetes mount secrets:
    ``/run/secrets/dockfleet_redis_url`` holds ``DOCKFLEET_REDIS_URL``, without its
    trailing newline. Other files of the folder are never read: they belong to others."""

    def load_secrets(self, path: Path) -> dict[str, str]:  # type: ignore[override]
        found = {}
        for file in self._iter_secret_files(path):
            name = str(file.relative_to(path))
            if not name.upper().startswith(PREFIX):
                continue
            try:
                found[name] = file.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                reason = getattr(exc, "strerror", None) or "not UTF-8 text"
                raise ConfigError(f"cannot read the secret file {file}: {reason}") from None
        return found


def secrets_dir_source(settings_cls: Any, folder: Path, variable: str) -> SecretsDirSource:
    """The source of `folder`; `ConfigError` naming `variable` when it is not a folder."""
    if not folder.is_dir():
        raise ConfigError(
            f"{variable}: {folder} is not a directory (expected the folder of secret files)"
        )
    return SecretsDirSource(settings_cls, secrets_dir=folder, secrets_dir_missing="error")


@dataclass(frozen=True)
class NamedSource:
    """A source of settings and what it is called: `kind` (``env``, ``secrets dir``...) and
    `where` (the file or folder it reads; empty for the process's environment)."""

    kind: str
    source: PydanticBaseSettingsSource
    where: str = ""

    def variable(self, path: Sequence[str]) -> str:
        """The name this source gave the setting at `path`: the variable (the outer one,
        ``DOCKFLEET_POLICY``, when a whole model came as JSON), or the secret file."""
        if self.kind == DOCKER_ENV:
            return DOCKER_VARIABLES.get(path[0], DOCKER_TLS_VARIABLES)
        names = getattr(self.source, "env_vars", None)
        if names is None:
            return ""
        for end in range(len(path), 0, -1):
            name = env_name(path[:end])
            if name.lower() in names or name in names:
                return _secret_file(Path(self.where), name) if self.kind == SECRETS_DIR else name
        return ""


def _secret_file(folder: Path, name: str) -> str:
    # the file as it is spelled in the folder (names are matched in any case)
    spelled = [p for p in folder.iterdir() if p.name.upper() == name] if folder.is_dir() else []
    return str(spelled[0] if spelled else folder / name.lower())
