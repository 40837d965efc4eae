"""dockfleet.cli.options: the shared options keep one name and behaviour; --filter and
KEY=VALUE items are parsed in one place for every command."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from dockfleet.cli.key_values import pairs, parse_filters
from dockfleet.cli.main import cli, register_commands
from dockfleet.errors import InvalidSpec


def test_repeated_filter_keys_collect_and_single_keys_keep_the_last() -> None:
    # Given label (repeatable) and name (single) items
    items = ["label=a", "name=x", "label=b=c", "name=y"]
    # When parsed
    fields = parse_filters(items, lists={"label": "labels"}, single=["name"])
    # Then labels keep every value, in order, and name the last one
    assert fields == {"labels": ["a", "b=c"], "name": "y"}


def test_an_unused_list_key_is_an_empty_list_and_an_unused_single_key_is_absent() -> None:
    assert parse_filters([], lists={"status": "status"}, single=["name"]) == {"status": []}


@pytest.mark.parametrize("item", ["colour=red", "status", "=running"])
def test_a_bad_filter_names_the_option_the_item_and_the_keys(item: str) -> None:
    with pytest.raises(InvalidSpec) as caught:
        parse_filters([item], lists={"status": "status", "label": "labels"}, single=["name"])
    message = str(caught.value)
    assert message.startswith("--filter: ") and repr(item) in message
    assert "status=..., label=... or name=..." in message


def test_pairs_need_a_value_unless_told_otherwise() -> None:
    assert pairs(["a=1", "b=", "a=2"], "--opt") == {"a": "2", "b": ""}
    assert pairs(["flag", "k=v"], "--label", need_value=False) == {"flag": "", "k": "v"}
    assert pairs(None, "--label") == {}
    with pytest.raises(InvalidSpec, match="--opt: 'flag' is not KEY=VALUE"):
        pairs(["flag"], "--opt")
    with pytest.raises(InvalidSpec, match=r"--label: '=v' is not KEY\[=VALUE\]"):
        pairs(["=v"], "--label", need_value=False)


def test_every_host_and_json_option_is_the_shared_one() -> None:
    # Given every command of the CLI
    register_commands()
    commands = [cli.commands[name] for name in cli.commands if name != "network"]
    network = cli.commands["network"]
    commands += getattr(network, "commands", {}).values()
    # Then each --host and --json has the same name, parameter and kind everywhere
    for command in commands:
        for param in command.params:
            if "--host" in param.opts:
                assert (param.name, param.opts, param.multiple) == ("host", ["--host"], False)
            if "--json" in param.opts:
                assert (param.name, param.opts, getattr(param, "is_flag", False)) == (
                    "as_json",
                    ["--json"],
                    True,
                )


def test_pull_and_push_refuse_a_username_without_a_password_on_stdin() -> None:
    # The login is checked before anything is sent: no fleet is needed to see it refused.
    register_commands()
    for command in ("pull", "push"):
        result = CliRunner().invoke(cli, [command, "-u", "ci", "busybox:local"])
        assert isinstance(result.exception, InvalidSpec), result.output
        assert "--username needs --password-stdin" in str(result.exception)
