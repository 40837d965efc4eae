"""kombu and celery are pinned to the minor release the broker overrides were tested with,
and a worker on another kombu says so at start."""

from __future__ import annotations

import logging
import tomllib
from importlib.metadata import version

import pytest

from tests.support.services import REPO
from worker.process import kombu_check


def pinned() -> dict[str, str]:
    """Requirement name -> its version range, from pyproject.toml."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    found = {}
    for requirement in project["dependencies"]:
        name, _, spec = requirement.partition(">")
        found[name.split("[")[0]] = ">" + spec
    return found


def test_kombu_and_celery_are_pinned_to_the_tested_minor_release() -> None:
    pins = pinned()
    assert pins["kombu"] == kombu_check.tested_range() == ">=5.7,<5.8"
    assert pins["celery"] == kombu_check.tested_range()


def test_the_installed_kombu_is_the_tested_one() -> None:
    assert kombu_check.is_tested(version("kombu")), version("kombu")
    assert kombu_check.warn_if_untested("worker.process.broker") is False


@pytest.mark.parametrize("version", ["5.7.0", "5.7.12", "5.7.1rc1"])
def test_a_tested_kombu_is_not_warned_about(version: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    assert kombu_check.warn_if_untested("worker.process.broker", version) is False
    assert caplog.records == []


@pytest.mark.parametrize("release", ["5.8.0", "5.6.4", "6.0.0", "unknown"])
def test_another_kombu_is_warned_about_naming_the_module_and_the_range(
    release: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)

    assert kombu_check.warn_if_untested("worker.process.broker", release) is True

    [record] = caplog.records
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "worker.process.broker" in message
    assert "tested with kombu >=5.7,<5.8 only" in message
    assert f"kombu {release} is installed" in message
