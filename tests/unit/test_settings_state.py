"""The env file of `dockfleet up`: read when DOCKFLEET_REDIS_URL is not set, never over it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockfleet.settings import Settings
from dockfleet.up.state import StateDir


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith("DOCKFLEET_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))


def test_state_dir_defaults_to_xdg_state_home(tmp_path: Path) -> None:
    assert Settings().state_dir == tmp_path / "xdg" / "dockfleet"


def test_redis_url_of_a_running_fleet_is_read_from_its_env_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given `dockfleet up` wrote its env file in the state folder
    state = StateDir(tmp_path / "state").ensure()
    state.write_env("redis://:pw@127.0.0.1:7001/0")
    monkeypatch.setenv("DOCKFLEET_STATE_DIR", str(state.root))

    # Then a command of another shell finds the fleet's Redis
    settings = Settings()
    assert settings.redis_url == "redis://:pw@127.0.0.1:7001/0"
    assert "redis_url" in settings.model_fields_set

    # But an explicit DOCKFLEET_REDIS_URL wins, and so does an argument
    monkeypatch.setenv("DOCKFLEET_REDIS_URL", "redis://elsewhere:6379/1")
    assert Settings().redis_url == "redis://elsewhere:6379/1"
    assert Settings(redis_url="redis://arg:6379/2").redis_url == "redis://arg:6379/2"


def test_after_down_the_default_comes_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    state = StateDir(tmp_path / "state").ensure()
    state.write_env("redis://127.0.0.1:7001/0")
    monkeypatch.setenv("DOCKFLEET_STATE_DIR", str(state.root))

    state.clear()

    settings = Settings()
    assert settings.redis_url == "redis://localhost:6379/0"
    assert "redis_url" not in settings.model_fields_set


def test_state_files_with_secrets_are_private(tmp_path: Path) -> None:
    state = StateDir(tmp_path / "state").ensure()
    state.write_env("redis://:pw@127.0.0.1:7001/0")
    user, password = state.flower_credentials()

    assert state.flower_credentials() == (user, password)  # made once, then kept
    assert len(password) >= 20
    for path in (state.root, state.env_path, state.flower_credentials_path):
        assert path.stat().st_mode & 0o077 == 0, path
