"""`dockfleet --help` a newcomer can follow, and shell completion from click."""

from __future__ import annotations

import os
import subprocess
import sys

from click.testing import CliRunner

from dockfleet.cli.main import SECTIONS, cli, register_commands


def help_text() -> str:
    register_commands()
    result = CliRunner().invoke(cli, ["--help"], prog_name="dockfleet")
    assert result.exit_code == 0, result.output
    return result.output


def test_help_starts_with_the_first_steps_and_completion() -> None:
    text = help_text()
    steps = ["dockfleet up -d", "dockfleet run busybox:local", "dockfleet hosts", "dockfleet down"]
    positions = [text.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "_DOCKFLEET_COMPLETE=bash_source dockfleet" in text


def test_every_command_is_in_a_section_and_has_a_summary() -> None:
    text = help_text()
    sectioned = [name for names in SECTIONS.values() for name in names]
    assert sorted(sectioned) == sorted(cli.commands)
    assert "\nOther:" not in text
    for name, command in cli.commands.items():
        assert command.get_short_help_str(), f"{name} has no help"
    assert text.index("Local fleet:") < text.index("CI jobs:") < text.index("Containers:")


def test_shell_completion_comes_from_click() -> None:
    env = {**os.environ, "_DOCKFLEET_COMPLETE": "bash_source"}
    script = subprocess.run(
        [sys.executable, "-m", "dockfleet"], env=env, capture_output=True, text=True
    )
    assert script.returncode == 0 and "_dockfleet_completion" in script.stdout

    env.update(_DOCKFLEET_COMPLETE="bash_complete", COMP_WORDS="dockfleet ru", COMP_CWORD="1")
    words = subprocess.run(
        [sys.executable, "-m", "dockfleet"], env=env, capture_output=True, text=True
    )
    assert "plain,run" in words.stdout.splitlines()
