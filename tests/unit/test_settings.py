"""Settings: the documented defaults and what the environment may change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from dockfleet.settings import Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith("DOCKFLEET_"):
            monkeypatch.delenv(name)
    # and no fleet of `dockfleet up` (whose env file Settings would read)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))


def test_settings_without_environment_are_the_documented_defaults() -> None:
    settings = Settings()

    assert settings.docker_host == "unix:///var/run/docker.sock"
    assert settings.api_version == "1.41"
    assert settings.tls_cert is None
    assert settings.tls_key is None
    assert settings.tls_ca_cert is None
    assert settings.uses_tls is False
    assert settings.max_containers == 100
    assert settings.default_timeout == 30
    assert settings.cleanup_interval == 300
    assert settings.stats_interval == 10
    assert settings.enable_monitoring is True
    assert settings.enable_auto_cleanup is True
    assert settings.redis_url == "redis://localhost:6379/0"
    assert settings.host_name  # the machine's hostname, never empty


def test_default_policy_allows_no_host_path_and_no_root() -> None:
    policy = Settings().policy
    assert policy.allowed_host_paths == []
    assert policy.allow_root is False
    assert policy.allow_privileged is False
    assert policy.default_user == "65534:65534"


def test_environment_variables_with_prefix_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # given the env a CI operator would set
    monkeypatch.setenv("DOCKFLEET_MAX_CONTAINERS", "5")
    monkeypatch.setenv("DOCKFLEET_POLICY__ALLOWED_HOST_PATHS", '["/srv/ci"]')
    monkeypatch.setenv("DOCKFLEET_ENABLE_MONITORING", "false")

    settings = Settings()

    assert settings.max_containers == 5
    assert settings.policy.allowed_host_paths == ["/srv/ci"]
    assert settings.enable_monitoring is False


def test_nested_retention_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKFLEET_RETENTION__LOGS_SECONDS", "60")
    assert Settings().retention.logs_seconds == 60


def test_api_version_auto_is_accepted() -> None:
    assert Settings(api_version="auto").api_version == "auto"


def test_tls_is_used_when_a_certificate_is_set() -> None:
    assert Settings(docker_host="tcp://h:2376", tls_ca_cert="/ca.pem").uses_tls is True


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("api_version", "banana"),
        ("api_version", "1"),
        ("docker_host", "foo"),
        ("max_containers", 0),
        ("max_containers", -3),
        ("redis_url", "http://localhost:6379"),
        ("default_timeout", 0),
        ("host_name", "bad host"),
    ],
)
def test_bad_values_are_rejected_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(**{field: value})  # type: ignore[arg-type]
    assert [e["loc"] for e in caught.value.errors()] == [(field,)]


def test_bad_value_from_the_environment_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKFLEET_MAX_CONTAINERS", "0")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert caught.value.errors()[0]["loc"] == ("max_containers",)
