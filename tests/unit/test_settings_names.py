"""An unknown DOCKFLEET_* name is warned about with the closest real one; every setting
knows where its value came from."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from dockfleet import settings_names
from dockfleet.settings import Settings
from dockfleet.settings_names import unknown, warn_unknown
from dockfleet.settings_origin import Origin
from tests.support.services import REPO
from tests.unit.test_settings_typed import clean_environment, secrets

__all__ = ["clean_environment"]  # autouse: no variable of this shell leaks in


@pytest.fixture(autouse=True)
def nothing_warned_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings_names, "_warned", set())


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("DOCKFLEET_MAX_CONTANERS", "DOCKFLEET_MAX_CONTAINERS"),
        ("DOCKFLEET_POLICY__ALLOWED_HOST_PATH", "DOCKFLEET_POLICY__ALLOWED_HOST_PATHS"),
        ("dockfleet_redis_ulr", "DOCKFLEET_REDIS_URL"),  # read in any case, so warned in any
        ("DOCKFLEET_POLICY_MAX_MEMORY", "DOCKFLEET_POLICY__MAX_MEMORY"),
        ("DOCKFLEET_ZZZZZZZZZZZZZZZZZZZZ", None),
    ],
)
def test_an_unknown_name_comes_with_the_closest_setting(typed: str, meant: str | None) -> None:
    assert unknown([typed, "PATH"], Settings) == [(typed.upper(), meant)]


def test_real_names_and_names_read_elsewhere_are_not_unknown() -> None:
    names = [
        "DOCKFLEET_MAX_CONTAINERS",
        "dockfleet_redis_url",
        "DOCKFLEET_POLICY",  # a whole model as JSON
        "DOCKFLEET_POLICY__MAX_ULIMITS__NOFILE",  # one key of a mapping setting
        "DOCKFLEET_REGISTRY_AUTH__REG:5000__USERNAME",
        "DOCKFLEET_DEBUG",  # the CLI's
        "DOCKFLEET_REDIS_PASSWORD",  # docker-compose.yml's
        "HOME",
    ]
    assert unknown(names, Settings) == []


def test_every_dockfleet_name_the_project_uses_is_a_setting_or_known_to_be_none() -> None:
    # A new knob of the compose file or a script, unregistered, would be warned about in
    # the operator's shell: name it in settings_names.NOT_SETTINGS
    places = ["docker-compose.yml", "Dockerfile", "Makefile", "README.md", "tests/conftest.py"]
    files = [REPO / p for p in places] + [
        path
        for pattern in ("scripts/*", "docs/**/*", "benchmarks/*.py", "dockfleet/**/*.py")
        for path in REPO.glob(pattern)
        if path.is_file() and path.name != "settings_names.py"
    ]
    used = {
        name
        for path in files
        for name in re.findall(r"(?<![_A-Z])DOCKFLEET_[A-Z0-9_]*[A-Z0-9]", path.read_text())
    }
    assert len(used) > 30
    typo_example = "DOCKFLEET_MAX_CONTANERS"  # the README shows the warning a typo gets
    assert unknown(used - {typo_example}, Settings) == []


def test_an_unknown_name_is_warned_once_per_process(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("DOCKFLEET_MAX_CONTANERS", "5")
    caplog.set_level(logging.WARNING, logger=settings_names.__name__)

    Settings()
    Settings()  # a worker builds its settings more than once

    [record] = caplog.records
    assert record.getMessage() == (
        "DOCKFLEET_MAX_CONTANERS (in the environment) is not a dockfleet setting and is "
        "ignored; did you mean DOCKFLEET_MAX_CONTAINERS?"
    )
    assert record.event == "settings.unknown"


def test_an_unknown_secret_file_is_warned_naming_the_folder(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = secrets(tmp_path / "secrets", dockfleet_redis_urls="redis://r:6379/0")
    caplog.set_level(logging.WARNING, logger=settings_names.__name__)

    Settings(secrets_dir=folder)

    assert f"(in the secrets dir {folder})" in caplog.text
    assert "did you mean DOCKFLEET_REDIS_URL?" in caplog.text


def test_warn_unknown_leaves_known_names_alone(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=settings_names.__name__)
    warn_unknown(["DOCKFLEET_HOST_NAME", "DOCKFLEET_TEST_DOCKER_HOST"], Settings)
    assert caplog.records == []


def test_each_setting_knows_where_its_value_came_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given a value from every kind of source
    folder = secrets(tmp_path / "secrets", dockfleet_worker_concurrency="2")
    state = tmp_path / "state"
    state.mkdir()
    (state / "env").write_text("DOCKFLEET_REDIS_URL=redis://127.0.0.1:7001/0\n")
    monkeypatch.setenv("DOCKFLEET_STATE_DIR", str(state))
    monkeypatch.setenv("DOCKFLEET_SECRETS_DIR", str(folder))
    monkeypatch.setenv("DOCKFLEET_POLICY", '{"allow_root": true}')
    monkeypatch.setenv("DOCKFLEET_POLICY__MAX_MEMORY", "1g")
    monkeypatch.setenv("DOCKER_HOST", "tcp://ci-2:2375")

    found = Settings.origins(max_containers=3)

    assert found[("max_containers",)] == Origin("argument")
    assert found[("policy", "max_memory")] == Origin("env", "DOCKFLEET_POLICY__MAX_MEMORY")
    assert found[("policy", "allow_root")] == Origin("env", "DOCKFLEET_POLICY")
    assert found[("docker_host",)] == Origin("docker env", "DOCKER_HOST")
    assert found[("redis_url",)] == Origin("env file", "DOCKFLEET_REDIS_URL", str(state / "env"))
    assert found[("worker_concurrency",)] == Origin(
        "secrets dir", str(folder / "dockfleet_worker_concurrency"), str(folder)
    )
    assert found[("cleanup", "image_pins")] == Origin("default")
