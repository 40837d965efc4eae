"""The README's configuration table is made from `Settings` and stays true."""

from __future__ import annotations

import re

from dockfleet.settings_table import END, START, markdown, rows
from tests.support.services import REPO

README = (REPO / "README.md").read_text()


def test_configuration_table_is_the_one_settings_make() -> None:
    block = README[README.index(START) : README.index(END) + len(END)]
    assert block == markdown(), "run: python -m dockfleet.settings_table --write README.md"


def test_every_setting_has_a_default_and_a_description() -> None:
    table = rows()
    assert len(table) > 40
    for env, default, description in table:
        assert default and description, env
    names = [env for env, _, _ in table]
    assert "DOCKFLEET_REDIS_URL" in names and "DOCKFLEET_POLICY__ALLOW_ROOT" in names
    assert len(names) == len(set(names))


def test_settings_the_compose_file_sets_are_real_settings() -> None:
    compose = (REPO / "docker-compose.yml").read_text()
    used = set(re.findall(r"^\s+#?\s*(DOCKFLEET_[A-Z_]+):", compose, re.MULTILINE))
    assert used, "no DOCKFLEET_ setting found in docker-compose.yml"
    assert used <= {env for env, _, _ in rows()}


def test_readme_names_the_two_commands_and_the_benchmarks() -> None:
    for text in ("make demo", "make test", "dockfleet up", "dockfleet down", "docs/benchmarks.md"):
        assert text in README
