"""Defaults that do not listen or connect more widely than asked: plain-TCP engines and
rediss:// hostname checks (the exporter's loopback default: tests/integration/test_exporter.py)."""

from __future__ import annotations

import pytest

from dockfleet.errors import InvalidSpec
from dockfleet.redis_client import tls_options
from dockfleet.settings import Settings
from worker.engine.client import make_client


@pytest.mark.parametrize("url", ["tcp://10.20.30.40:2375", "tcp://docker:2375", "http://ci:2375"])
def test_a_plain_tcp_engine_off_loopback_is_refused_before_any_connection(url: str) -> None:
    with pytest.raises(InvalidSpec, match="without TLS") as caught:
        make_client(Settings(docker_host=url))
    assert "DOCKFLEET_ALLOW_PLAIN_TCP" in str(caught.value)


def test_a_plain_tcp_engine_is_allowed_on_loopback_or_when_the_operator_says_so() -> None:
    # A pinned version: docker-py then makes no call at construction (no traffic at all).
    for settings in (
        Settings(docker_host="tcp://127.0.0.1:2375", api_version="1.41"),
        Settings(docker_host="tcp://10.20.30.40:2375", api_version="1.41", allow_plain_tcp=True),
    ):
        make_client(settings).close()


def test_rediss_checks_the_servers_certificate_and_hostname() -> None:
    options = tls_options(Settings(redis_url="rediss://redis.internal:6380/0"))
    assert options is not None
    assert options["ssl_check_hostname"] is True and options["ssl_cert_reqs"] != 0
