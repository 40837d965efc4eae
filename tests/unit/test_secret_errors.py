"""No error text quotes an env value (it may be a secret), and a retried task's message
shows its arguments as the received one did (masked by the producer)."""

from __future__ import annotations

from typing import Any

import pytest
from celery import Celery
from hypothesis import given
from hypothesis import strategies as st

from dockfleet.env_sources import assignment, read_env_file
from dockfleet.errors import InvalidSpec
from dockfleet.models import ContainerConfig
from dockfleet.models.jobs import JobSpec
from dockfleet.validation import parse
from tasks.base import HIDDEN, DockerTask

#: a value as a secret looks: long enough that finding it in a message is no accident
values = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1
).map(lambda v: f"s3cr3t-{v}")
bad_keys = st.sampled_from(["DB PASSWORD", "", " X", "A\tB", "TAB\t"])


def refusal(model: type[Any], data: dict[str, Any]) -> str:
    with pytest.raises(InvalidSpec) as caught:
        parse(model, data)
    return str(caught.value)


@given(index=st.integers(0, 3), key=bad_keys, value=values)
def test_a_bad_env_item_is_named_by_its_index_and_key_never_its_value(
    index: int, key: str, value: str
) -> None:
    env = ["A=1"] * index + [f"{key}={value}"]
    message = refusal(ContainerConfig, {"image": "busybox", "env": env})
    assert value not in message
    assert f"env.{index}" in message and f"{key!r} is not a valid variable name" in message


@given(value=values.filter(lambda v: "=" not in v))
def test_an_env_item_without_equals_is_not_quoted(value: str) -> None:
    # (a value given alone, its KEY= forgotten)
    message = refusal(JobSpec, {"container": {"image": "busybox", "env": [value]}})
    assert value not in message
    assert message.endswith("container.env.0: Value error, not KEY=VALUE (no '=')")


@given(value=values)
def test_a_nul_in_a_value_is_refused_without_quoting_it(value: str) -> None:
    # (the engine would refuse it at start, quoting the whole item in its error)
    held = value + "\x00tail"
    for data in ({"env": [f"TOKEN={held}"]}, {"secret_env": {"TOKEN": held}}):
        message = refusal(ContainerConfig, {"image": "busybox", **data})
        assert value not in message and "NUL" in message


@given(key=bad_keys, value=values)
def test_a_bad_secret_or_mapped_env_name_is_named_without_its_value(key: str, value: str) -> None:
    for field in ("secret_env", "env"):
        message = refusal(ContainerConfig, {"image": "busybox", field: {key: value}})
        assert value not in message and repr(key) in message
    message = refusal(ContainerConfig, {"image": "busybox", "env": {"A=B": value}})
    assert value not in message and "'A=B' is not a valid variable name" in message


def test_a_variable_that_is_not_set_is_named_only_when_it_looks_like_a_name() -> None:
    with pytest.raises(InvalidSpec, match="^--secret-env PGPASSWORD: environment variable"):
        assignment("PGPASSWORD", {}, "--secret-env")
    # `--secret-env $TOKEN`: the value where its name should be
    with pytest.raises(InvalidSpec) as caught:
        assignment("hunter2-s3cr3t", {}, "--secret-env")
    assert "hunter2" not in str(caught.value) and str(caught.value).startswith("--secret-env: ")


def test_a_lone_value_in_an_env_file_is_not_quoted(tmp_path: Any) -> None:
    path = tmp_path / "ci.env"
    path.write_text("A=1\nhunter2-s3cr3t\n")
    with pytest.raises(InvalidSpec) as caught:
        read_env_file(path, {})
    assert "hunter2" not in str(caught.value) and f"{path}:2" in str(caught.value)


# -- a retry's message -----------------------------------------------------------------

app = Celery("test-retry", set_as_current=False)


@app.task(name="test.create", base=DockerTask, bind=True)
def create(self: DockerTask, config: dict[str, Any]) -> None:
    """A task whose argument holds a secret in the clear, as a create's wire spec does."""


WIRE = [{"image": "busybox", "secret_env": {"TOKEN": "s3cr3t"}}]
MASKED = "[{'image': 'busybox', 'secret_env': {'TOKEN': '***'}}]"


def retry_options(**request: Any) -> dict[str, Any]:
    """The options of the message Celery's retry would send for a task received so."""
    delivery = {"exchange": "", "routing_key": "dockfleet.host.a"}
    create.push_request(id="t1", args=WIRE, kwargs={}, delivery_info=delivery, **request)
    try:
        args = request.pop("retry_args", None)
        return dict(create.signature_from_request(args=args, countdown=1, retries=1).options)
    finally:
        create.pop_request()


def test_a_retry_shows_the_arguments_as_the_producer_masked_them() -> None:
    options = retry_options(argsrepr=MASKED, kwargsrepr="{}")
    assert options["argsrepr"] == MASKED and options["kwargsrepr"] == "{}"
    assert options["queue"] == "dockfleet.host.a"


def test_a_retry_of_a_message_without_argsrepr_shows_nothing_of_its_arguments() -> None:
    options = retry_options()
    assert options["argsrepr"] == HIDDEN and options["kwargsrepr"] == HIDDEN


def test_a_retry_with_other_arguments_does_not_reuse_the_old_repr() -> None:
    options = retry_options(argsrepr=MASKED, kwargsrepr="{}", retry_args=[{"image": "x"}])
    assert options["argsrepr"] == HIDDEN
