"""worker.engine.client.make_client: how the TLS settings reach docker-py (no engine call)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from dockfleet.settings import Settings
from worker.engine.client import make_client


@pytest.fixture
def cert_folder(tmp_path: Path) -> Path:
    # docker-py checks that the files exist; their content is read only on connect
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("-----BEGIN CERTIFICATE-----\n")
    return tmp_path


def tls_settings(folder: Path, verify: bool) -> Settings:
    return Settings(
        docker_host="tcp://127.0.0.1:2376",
        api_version="1.44",  # pinned: no engine is asked
        tls_ca_cert=str(folder / "ca.pem"),
        tls_cert=str(folder / "cert.pem"),
        tls_key=str(folder / "key.pem"),
        tls_verify=verify,
    )


def test_a_verified_tls_client_checks_the_engine_against_its_ca(cert_folder: Path) -> None:
    client = make_client(tls_settings(cert_folder, verify=True))

    assert client.api.base_url == "https://127.0.0.1:2376"
    assert client.api.verify == str(cert_folder / "ca.pem")
    assert client.api.cert == (str(cert_folder / "cert.pem"), str(cert_folder / "key.pem"))


def test_an_unverified_tls_client_sends_its_cert_and_checks_nothing(
    cert_folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # What DOCKER_CERT_PATH without DOCKER_TLS_VERIFY means (docker-py's kwargs_from_env)
    # (the logger's own handler: an earlier test's logging setup may have stopped it
    # propagating to the root logger that caplog listens on, or disabled it)
    logger = logging.getLogger("worker.engine.client")
    logger.addHandler(caplog.handler)
    disabled, logger.disabled = logger.disabled, False
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        client = make_client(tls_settings(cert_folder, verify=False))
    finally:
        logger.removeHandler(caplog.handler)
        logger.disabled = disabled
        logger.setLevel(level)

    assert client.api.verify is False
    assert client.api.cert == (str(cert_folder / "cert.pem"), str(cert_folder / "key.pem"))
    assert "does not check the engine's certificate" in caplog.text
