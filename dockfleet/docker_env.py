"""Docker's own variables (DOCKER_HOST, DOCKER_TLS_VERIFY, ...) as a source of `Settings`.

`Settings` reads them after its ``DOCKFLEET_*`` variables, so a shell set up for
the docker CLI (``DOCKER_HOST=tcp://ci-2:2376 DOCKER_TLS_VERIFY=1``) serves the
fleet too. Their meaning is docker-py's ``utils.kwargs_from_env`` (the docker
CLI agrees on the first two points):

- ``DOCKER_TLS_VERIFY`` set to any non-empty value ("0" included) turns TLS on
  and checks the engine's certificate against ``ca.pem``;
- ``DOCKER_CERT_PATH`` names the folder of ``ca.pem``, ``cert.pem`` and
  ``key.pem`` (default ``~/.docker``); set without ``DOCKER_TLS_VERIFY`` it still
  turns TLS on with the client certificate, but checks no server certificate;
- an empty variable counts as unset.

The TLS files come from one place: when any ``DOCKFLEET_TLS_CERT``/``_KEY``/
``_CA_CERT`` is given (argument or environment), Docker's TLS variables are not read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

#: the settings that hold TLS files; given any of them, Docker's TLS variables are ignored
TLS_FILE_FIELDS = ("tls_cert", "tls_key", "tls_ca_cert")


def from_docker_env(environ: Mapping[str, str], *, tls_given: bool = False) -> dict[str, Any]:
    """The settings Docker's variables in `environ` stand for (only those that are set)."""
    values: dict[str, Any] = {}
    if environ.get("DOCKER_HOST"):
        values["docker_host"] = environ["DOCKER_HOST"]
    if environ.get("DOCKER_API_VERSION"):
        values["api_version"] = environ["DOCKER_API_VERSION"]
    if tls_given:
        return values
    verify = bool(environ.get("DOCKER_TLS_VERIFY"))
    cert_path = environ.get("DOCKER_CERT_PATH")
    if not (verify or cert_path):
        return values
    folder = Path(cert_path) if cert_path else Path(os.path.expanduser("~")) / ".docker"
    values.update(
        tls_ca_cert=str(folder / "ca.pem"),
        tls_cert=str(folder / "cert.pem"),
        tls_key=str(folder / "key.pem"),
        tls_verify=verify,
    )
    return values


class DockerEnvSource(PydanticBaseSettingsSource):
    """Docker's variables, below the ``DOCKFLEET_*`` ones and the arguments."""

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        init_kwargs: Mapping[str, Any],
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(settings_cls)
        self.init_kwargs = init_kwargs
        self.environ = os.environ if environ is None else environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # the whole mapping comes from __call__

    def __call__(self) -> dict[str, Any]:
        # DOCKFLEET_ names are read case-insensitively (pydantic-settings' default).
        fleet_names = {name.upper() for name in self.environ}
        tls_given = any(
            self.init_kwargs.get(name) is not None or f"DOCKFLEET_{name.upper()}" in fleet_names
            for name in TLS_FILE_FIELDS
        )
        return from_docker_env(self.environ, tls_given=tls_given)
