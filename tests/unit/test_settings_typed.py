"""Settings read as people type them: lists as ``a,b``, sizes as ``2g``, secrets from files;
a bad value is a `ConfigError` that names its variable and what it expects."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from dockfleet.errors import ConfigError, FleetError
from dockfleet.settings import Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No DOCKFLEET_/DOCKER_ variable, no fleet of `dockfleet up`, no secrets folder."""
    for name in list(os.environ):
        if name.upper().startswith(("DOCKFLEET_", "DOCKER_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr("dockfleet.settings.SECRETS_DIR_DEFAULT", tmp_path / "no-secrets")


def secrets(folder: Path, **files: str) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


# -- lists -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("/srv/ci", ["/srv/ci"]),
        ("/srv/ci,/srv/cache", ["/srv/ci", "/srv/cache"]),
        (" /srv/ci , /srv/cache ,", ["/srv/ci", "/srv/cache"]),
        ('["/srv/ci", "/srv/a,b"]', ["/srv/ci", "/srv/a,b"]),  # JSON still, for a comma
        ("[]", []),
    ],
)
def test_a_list_setting_is_comma_separated_or_json(
    monkeypatch: pytest.MonkeyPatch, typed: str, read: list[str]
) -> None:
    monkeypatch.setenv("DOCKFLEET_POLICY__ALLOWED_HOST_PATHS", typed)
    assert Settings().policy.allowed_host_paths == read


def test_every_list_setting_takes_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKFLEET_CLEANUP__IMAGE_PINS", "registry:5000/base/*,busybox:*")
    monkeypatch.setenv("DOCKFLEET_POLICY__ALLOWED_CAPABILITIES", "CHOWN,KILL")
    settings = Settings()
    assert settings.cleanup.image_pins == ["registry:5000/base/*", "busybox:*"]
    assert settings.policy.allowed_capabilities == ["CHOWN", "KILL"]


# -- sizes -------------------------------------------------------------------------------


def test_sizes_take_the_syntax_of_docker_run_m(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the forms `dockfleet run -m` takes
    monkeypatch.setenv("DOCKFLEET_POLICY__MAX_MEMORY", "2g")
    monkeypatch.setenv("DOCKFLEET_CLEANUP__IMAGE_BUDGET_BYTES", "50GiB")
    monkeypatch.setenv("DOCKFLEET_IMAGES__UPLOAD_MAX_BYTES", "128m")

    settings = Settings()

    assert settings.policy.max_memory == 2 * 1024**3
    assert settings.cleanup.image_budget_bytes == 50 * 1024**3
    assert settings.images.upload_max_bytes == 128 * 1024**2


# -- bad values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("DOCKFLEET_MAX_CONTAINERS", "many", "valid integer"),
        ("DOCKFLEET_POLICY__MAX_MEMORY", "2 gigs", "use bytes or a number with k, m, g or t"),
        ("DOCKFLEET_POLICY__ALLOWED_HOST_PATHS", "[/srv/ci", "a comma-separated list"),
        ("DOCKFLEET_POLICY__MAX_ULIMITS", "nofile=1024", "a JSON object"),
        ("DOCKFLEET_POLICY", "allow_root", "DOCKFLEET_POLICY__<FIELD>"),
        ("DOCKFLEET_ENABLE_MONITORING", "perhaps", "valid boolean"),
        ("DOCKFLEET_LOG_FORMAT", "yaml", "'text' or 'json'"),
    ],
)
def test_a_bad_value_names_its_variable_and_what_it_expects(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigError) as caught:
        Settings()

    message = str(caught.value)
    assert message.startswith(f"invalid setting: {variable} (env): "), message
    assert says in message
    assert isinstance(caught.value, FleetError) and not caught.value.transient


def test_a_bad_value_is_never_quoted(monkeypatch: pytest.MonkeyPatch) -> None:
    # A Redis URL holds a password: the error names the variable, not the value
    monkeypatch.setenv("DOCKFLEET_REDIS_URL", "http://:hunter2@redis:6379/0")
    with pytest.raises(ConfigError, match="DOCKFLEET_REDIS_URL") as caught:
        Settings()
    assert "hunter2" not in str(caught.value)


def test_every_bad_setting_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKFLEET_MAX_CONTAINERS", "0")
    monkeypatch.setenv("DOCKFLEET_RETENTION__LOGS_SECONDS", "soon")
    with pytest.raises(ConfigError) as caught:
        Settings()
    message = str(caught.value)
    assert message.startswith("invalid settings: ")
    assert "DOCKFLEET_MAX_CONTAINERS (env)" in message
    assert "DOCKFLEET_RETENTION__LOGS_SECONDS (env)" in message


def test_a_bad_argument_stays_a_validation_error() -> None:
    # Code that builds Settings(...) with a wrong value has a bug, not a bad config
    with pytest.raises(ValidationError):
        Settings(max_containers=0)


def test_a_bad_value_in_the_fleet_env_file_names_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "env").write_text("DOCKFLEET_REDIS_URL=http://nowhere\n")
    monkeypatch.setenv("DOCKFLEET_STATE_DIR", str(tmp_path / "state"))
    with pytest.raises(ConfigError, match=r"DOCKFLEET_REDIS_URL \(env file .*/state/env\)"):
        Settings()


# -- the secrets folder ------------------------------------------------------------------


def test_settings_are_read_from_secret_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given secret files as Docker mounts them (a trailing newline), one of a nested setting
    folder = secrets(
        tmp_path / "secrets",
        dockfleet_redis_url="redis://:s3cret@redis:6379/0\n",
        DOCKFLEET_POLICY__ALLOWED_HOST_PATHS="/srv/ci,/srv/cache\n",
        redis_password="not ours\n",
    )
    (folder / "binary_of_another").write_bytes(b"\xff\xfe\x00")  # never read
    monkeypatch.setenv("DOCKFLEET_SECRETS_DIR", str(folder))

    settings = Settings()

    assert settings.redis_url == "redis://:s3cret@redis:6379/0"
    assert settings.policy.allowed_host_paths == ["/srv/ci", "/srv/cache"]
    assert settings.secrets_dir == folder


def test_the_environment_wins_over_a_secret_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = secrets(tmp_path / "secrets", dockfleet_max_containers="7")
    monkeypatch.setenv("DOCKFLEET_MAX_CONTAINERS", "9")
    assert Settings(secrets_dir=folder).max_containers == 9


def test_run_secrets_is_the_default_folder_where_it_exists(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = secrets(tmp_path / "run-secrets", dockfleet_max_containers="7")
    monkeypatch.setattr("dockfleet.settings.SECRETS_DIR_DEFAULT", folder)

    assert Settings().max_containers == 7
    assert Settings().secrets_dir == folder


def test_a_missing_secrets_folder_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKFLEET_SECRETS_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match="^DOCKFLEET_SECRETS_DIR: .* is not a directory"):
        Settings()


def test_a_bad_secret_names_its_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = secrets(tmp_path / "secrets", dockfleet_max_containers="lots")
    monkeypatch.setenv("DOCKFLEET_SECRETS_DIR", str(folder))
    expected = f"{folder / 'dockfleet_max_containers'} (secrets dir {folder})"
    with pytest.raises(ConfigError, match=f"^invalid setting: {re.escape(expected)}: "):
        Settings()
