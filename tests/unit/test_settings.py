"""Settings: the documented defaults and what the environment may change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from dockfleet.errors import ConfigError
from dockfleet.settings import Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith(("DOCKFLEET_", "DOCKER_")):
            monkeypatch.delenv(name)
    # and no fleet of `dockfleet up` (whose env file Settings would read)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))


def test_settings_without_environment_are_the_documented_defaults() -> None:
    settings = Settings()

    assert settings.docker_host == "unix:///var/run/docker.sock"
    assert settings.api_version == "auto"
    assert settings.tls_cert is None
    assert settings.tls_key is None
    assert settings.tls_ca_cert is None
    assert settings.tls_verify is True
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


def test_a_pinned_api_version_stays_allowed() -> None:
    assert Settings(api_version="1.41").api_version == "1.41"


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


def test_bad_value_from_the_environment_is_rejected_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKFLEET_MAX_CONTAINERS", "0")
    with pytest.raises(ConfigError, match=r"^invalid setting: DOCKFLEET_MAX_CONTAINERS \(env\)"):
        Settings()


#: what a shell set up for the docker CLI holds (docker-machine and CI runners write these)
DOCKER_ENV = {
    "DOCKER_HOST": "tcp://ci-2.internal:2376",
    "DOCKER_TLS_VERIFY": "1",
    "DOCKER_CERT_PATH": "/certs/ci-2",
    "DOCKER_API_VERSION": "1.44",
}


def test_dockers_own_variables_are_read_when_the_fleets_are_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given only Docker's variables
    for name, value in DOCKER_ENV.items():
        monkeypatch.setenv(name, value)

    settings = Settings()

    # Then the fleet serves that engine, with the files of DOCKER_CERT_PATH, verified
    assert settings.docker_host == "tcp://ci-2.internal:2376"
    assert settings.api_version == "1.44"
    assert settings.tls_ca_cert == "/certs/ci-2/ca.pem"
    assert settings.tls_cert == "/certs/ci-2/cert.pem"
    assert settings.tls_key == "/certs/ci-2/key.pem"
    assert settings.tls_verify is True
    assert settings.uses_tls is True


def test_the_fleets_variables_win_over_dockers(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given both Docker's variables and the fleet's own
    for name, value in DOCKER_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DOCKFLEET_DOCKER_HOST", "tcp://builder.internal:2376")
    monkeypatch.setenv("DOCKFLEET_API_VERSION", "auto")
    monkeypatch.setenv("DOCKFLEET_TLS_CA_CERT", "/fleet/ca.pem")

    settings = Settings()

    # Then the fleet's win; and TLS files come from one place, never half from DOCKER_CERT_PATH
    assert settings.docker_host == "tcp://builder.internal:2376"
    assert settings.api_version == "auto"
    assert settings.tls_ca_cert == "/fleet/ca.pem"
    assert settings.tls_cert is None and settings.tls_key is None


def test_arguments_win_over_both_environments(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in DOCKER_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DOCKFLEET_DOCKER_HOST", "tcp://builder.internal:2376")
    monkeypatch.setenv("DOCKFLEET_API_VERSION", "1.45")

    settings = Settings(
        docker_host="unix:///run/other.sock", api_version="1.41", tls_ca_cert="/arg/ca.pem"
    )

    assert settings.docker_host == "unix:///run/other.sock"
    assert settings.api_version == "1.41"
    assert (settings.tls_ca_cert, settings.tls_cert) == ("/arg/ca.pem", None)


def test_docker_tls_verify_without_a_cert_path_takes_the_files_of_dot_docker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")

    settings = Settings()

    assert settings.tls_ca_cert == str(tmp_path / ".docker" / "ca.pem")
    assert settings.tls_cert == str(tmp_path / ".docker" / "cert.pem")
    assert settings.tls_verify is True


def test_a_cert_path_without_docker_tls_verify_uses_the_client_cert_unverified(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As docker-py's kwargs_from_env: TLS with the client certificate, no server check
    monkeypatch.setenv("DOCKER_CERT_PATH", "/certs/ci-2")

    settings = Settings()

    assert (settings.tls_cert, settings.tls_key) == ("/certs/ci-2/cert.pem", "/certs/ci-2/key.pem")
    assert settings.tls_verify is False
    # and DOCKFLEET_TLS_VERIFY may still ask for the check
    monkeypatch.setenv("DOCKFLEET_TLS_VERIFY", "true")
    assert Settings().tls_verify is True


@pytest.mark.parametrize(("value", "tls"), [("", False), ("0", True), ("false", True)])
def test_docker_tls_verify_counts_when_not_empty_whatever_it_says(
    monkeypatch: pytest.MonkeyPatch, value: str, tls: bool
) -> None:
    # The docker CLI and docker-py both test DOCKER_TLS_VERIFY for being non-empty
    monkeypatch.setenv("DOCKER_TLS_VERIFY", value)
    assert Settings().uses_tls is tls


def test_empty_docker_variables_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in DOCKER_ENV:
        monkeypatch.setenv(name, "")

    settings = Settings()

    assert settings.docker_host == "unix:///var/run/docker.sock"
    assert settings.api_version == "auto"
    assert settings.uses_tls is False


def test_a_bad_docker_api_version_is_rejected_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_API_VERSION", "latest")
    with pytest.raises(ConfigError, match=r"DOCKER_API_VERSION \(docker env\): must be 'auto'"):
        Settings()
