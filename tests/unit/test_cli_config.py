"""`dockfleet config`, run as a command: the settings in force, where each came from,
secrets masked; a typo warned about, a bad value one error line and exit 125."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import DOCKFLEET, FLEET_FAILED, one_error_line

REDIS_PASSWORD = "s3cret-redis-pw"
REGISTRY_PASSWORD = "s3cret-registry-pw"
SECRET_FILE_VALUE = "redis://:s3cret-file-pw@redis:6379/0"


def dockfleet(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`dockfleet ARGS` with only `env` of DOCKFLEET_*/DOCKER_* (no fleet of
    `dockfleet up`, an empty secrets folder unless `env` names one)."""
    clean = {
        k: v for k, v in os.environ.items() if not k.upper().startswith(("DOCKFLEET_", "DOCKER_"))
    }
    (tmp_path / "empty-secrets").mkdir(exist_ok=True)
    full = {
        **clean,
        "XDG_STATE_HOME": str(tmp_path / "xdg"),
        "DOCKFLEET_SECRETS_DIR": str(tmp_path / "empty-secrets"),
        **env,
    }
    return subprocess.run([DOCKFLEET, *args], capture_output=True, text=True, env=full, timeout=60)


def by_variable(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    return {row["variable"]: row for row in json.loads(result.stdout)}


def test_config_shows_each_setting_with_its_source_and_masks_secrets(tmp_path: Path) -> None:
    # Given settings from the environment (a plain list, a size, passwords) and a secret file
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "dockfleet_redis_url").write_text(SECRET_FILE_VALUE + "\n")
    auth = {"reg:5000": {"username": "ci", "password": REGISTRY_PASSWORD}}

    result = dockfleet(
        tmp_path,
        "config",
        "--json",
        DOCKFLEET_SECRETS_DIR=str(secrets),
        DOCKFLEET_POLICY__ALLOWED_HOST_PATHS="/srv/ci,/srv/cache",
        DOCKFLEET_POLICY__MAX_MEMORY="2g",
        DOCKFLEET_REGISTRY_AUTH=json.dumps(auth),
    )

    # Then every setting is listed with its value and source, no secret in sight
    rows = by_variable(result)
    assert rows["DOCKFLEET_POLICY__ALLOWED_HOST_PATHS"]["value"] == ["/srv/ci", "/srv/cache"]
    assert rows["DOCKFLEET_POLICY__ALLOWED_HOST_PATHS"]["source"] == "env"
    assert rows["DOCKFLEET_POLICY__MAX_MEMORY"]["value"] == 2 * 1024**3
    assert rows["DOCKFLEET_MAX_CONTAINERS"] == {
        "variable": "DOCKFLEET_MAX_CONTAINERS",
        "setting": "max_containers",
        "value": 100,
        "source": "default",
        "from": None,
    }
    assert rows["DOCKFLEET_REDIS_URL"]["value"] == "***"
    assert rows["DOCKFLEET_REDIS_URL"]["source"] == "secrets dir"
    assert rows["DOCKFLEET_REDIS_URL"]["from"] == str(secrets / "dockfleet_redis_url")
    assert rows["DOCKFLEET_REGISTRY_AUTH"]["value"]["reg:5000"]["password"] == "***"
    assert "s3cret" not in result.stdout + result.stderr


def test_config_masks_the_redis_password_and_names_the_option(tmp_path: Path) -> None:
    url = f"redis://:{REDIS_PASSWORD}@10.0.0.5:6379/0"
    from_env = by_variable(dockfleet(tmp_path, "config", "--json", DOCKFLEET_REDIS_URL=url))
    assert from_env["DOCKFLEET_REDIS_URL"]["value"] == "redis://:***@10.0.0.5:6379/0"

    result = dockfleet(tmp_path, "--redis-url", url, "config")
    assert result.returncode == 0, result.stderr
    assert REDIS_PASSWORD not in result.stdout
    [line] = [line for line in result.stdout.splitlines() if "DOCKFLEET_REDIS_URL" in line]
    assert line.split() == [
        "DOCKFLEET_REDIS_URL",
        "redis://:***@10.0.0.5:6379/0",
        "argument",
        "(--redis-url)",
    ]


def test_config_table_reads_as_typed(tmp_path: Path) -> None:
    result = dockfleet(tmp_path, "config", DOCKFLEET_POLICY__ALLOWED_IMAGES="busybox:*,alpine:3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["VARIABLE", "VALUE", "SOURCE"]
    assert ["DOCKFLEET_POLICY__ALLOWED_IMAGES", "busybox:*,alpine:3", "env"] in [
        line.split() for line in lines
    ]


def test_a_misspelt_setting_is_warned_about_with_the_closest_name(tmp_path: Path) -> None:
    result = dockfleet(tmp_path, "config", "--json", DOCKFLEET_MAX_CONTANERS="5")
    assert by_variable(result)["DOCKFLEET_MAX_CONTAINERS"]["value"] == 100
    assert result.stderr.splitlines() == [
        "dockfleet: warning: DOCKFLEET_MAX_CONTANERS (in the environment) is not a dockfleet "
        "setting and is ignored; did you mean DOCKFLEET_MAX_CONTAINERS?"
    ]


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("DOCKFLEET_POLICY__MAX_MEMORY", "2 gigs", ("k, m, g or t",)),
        ("DOCKFLEET_POLICY__MAX_ULIMITS", "nofile=1", ("a JSON object",)),
        ("DOCKFLEET_REDIS_URL", f"http://:{REDIS_PASSWORD}@h", ("redis://",)),
    ],
)
def test_a_bad_setting_is_one_error_line_and_exit_125(
    tmp_path: Path, variable: str, value: str, words: tuple[str, ...]
) -> None:
    result = dockfleet(tmp_path, "config", **{variable: value})

    assert result.returncode == FLEET_FAILED
    line = one_error_line(result, f"dockfleet: error: invalid setting: {variable} (env): ", *words)
    assert "internal error" not in line and REDIS_PASSWORD not in line
