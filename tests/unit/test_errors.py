"""The error tree: flags, messages, and rebuilding from args as Celery does."""

from __future__ import annotations

import json

import celery
import pytest
from celery.backends.base import BaseBackend

from dockfleet import errors
from dockfleet.errors import (
    AmbiguousReference,
    BrokerUnavailable,
    ContainerLimitReached,
    ContainerNotFound,
    FleetError,
    HostUnavailable,
    ImageNotFound,
    InvalidSpec,
    NetworkNotFound,
    PolicyViolation,
    ServiceNotReady,
)

EXAMPLES: list[FleetError] = [
    ContainerLimitReached("h", 3),
    ContainerNotFound("abc", "h"),
    ContainerNotFound("abc"),
    ImageNotFound("busybox:nope", "h"),
    ServiceNotReady("db", "not ready after 2s", "db is broken"),
    NetworkNotFound("ci-net", "h"),
    PolicyViolation("r", "v", "hint"),
    PolicyViolation("r", "v"),
    HostUnavailable("h", "connection refused"),
    HostUnavailable("h"),
    BrokerUnavailable("redis://r:6379/0", "timeout"),
    BrokerUnavailable("redis://r:6379/0", "Connection refused", "start it"),
    errors.BrokerTimeout("redis://r:6379/0", "did not answer within 5s", "start it"),
    errors.BrokerAuthError("redis://:***@r:6379/0", "refused the password", "check it"),
    HostUnavailable(errors.ANY_HOST, "no live Docker host in the fleet at redis://r:6379/0"),
    AmbiguousReference("x", ["b", "a"]),
    InvalidSpec("m"),
    errors.ConfigError("invalid setting: DOCKFLEET_MAX_CONTAINERS (env): not an integer"),
    errors.EngineBusy("busy"),
    errors.SlotsBusy("h1", 5.0),
    errors.Conflict("name taken"),
    errors.OperationTimeout("late"),
    errors.JobTimeout("late"),
    errors.JobCanceled("stop"),
    errors.EngineError("no"),
    errors.TransferFailed("j1.workspace", "the other end aborted it"),
    errors.NetworkInUse("ci-net", ["web", "db"], "h"),
    errors.CacheInUse("myproj-npm", ["dfj-1"], "h"),
    errors.RegistryAuthError("reg:5000", "h", "unauthorized: authentication required"),
    errors.RegistryAuthError("reg:5000"),
    errors.BuildFailed("returned a non-zero code: 3", ["Step 2/2 : RUN false", "oops"], "h"),
]


def every_error_class() -> list[type[FleetError]]:
    return [
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, FleetError)
    ]


def test_examples_cover_every_concrete_error_class() -> None:
    abstract = {FleetError, errors.TransientError, errors.PermanentError, errors.NotFound}
    assert set(every_error_class()) - abstract <= {type(e) for e in EXAMPLES}


@pytest.mark.parametrize("exc", EXAMPLES, ids=lambda e: type(e).__name__)
def test_error_rebuilt_from_its_args_is_the_same_error(exc: FleetError) -> None:
    # when rebuilt as Celery's result backend does: cls(*args)
    rebuilt = type(exc)(*exc.args)
    assert type(rebuilt) is type(exc)
    assert str(rebuilt) == str(exc)
    assert rebuilt.args == exc.args


@pytest.mark.parametrize("exc", EXAMPLES, ids=lambda e: type(e).__name__)
def test_error_survives_celerys_json_result_backend(exc: FleetError) -> None:
    backend = BaseBackend(app=celery.Celery(set_as_current=False), serializer="json")

    # given the stored form, through JSON as Redis would hold it
    stored = json.loads(json.dumps(backend.prepare_exception(exc)))
    rebuilt = backend.exception_to_python(stored)

    assert type(rebuilt) is type(exc)
    assert str(rebuilt) == str(exc)


def test_container_limit_message_names_host_and_limit() -> None:
    error = ContainerLimitReached("ci-1", 3)
    assert error.host == "ci-1" and error.limit == 3
    assert "'ci-1'" in str(error)
    assert "max_containers=3" in str(error)
    assert "DOCKFLEET_MAX_CONTAINERS" in str(error)


def test_not_found_messages_name_kind_ref_and_host() -> None:
    assert str(ContainerNotFound("abc", "h")) == "no such container: abc on host 'h'"
    assert str(ImageNotFound("busybox:nope")) == "no such image: busybox:nope"
    assert str(NetworkNotFound("n", "h")) == "no such network: n on host 'h'"


def test_policy_violation_keeps_rule_value_and_hint() -> None:
    error = PolicyViolation("host-path", "/etc", "allow it")
    assert (error.rule, error.value, error.hint) == ("host-path", "/etc", "allow it")
    assert str(error) == "policy violation [host-path]: /etc (allow it)"


def test_ambiguous_reference_lists_hosts_sorted() -> None:
    error = AmbiguousReference("web", ["h2", "h1"])
    assert error.hosts == ["h2", "h1"]
    assert "(h1, h2)" in str(error)


def test_host_unavailable_message_includes_the_reason() -> None:
    assert str(HostUnavailable("h", "refused")) == "Docker host 'h' is unavailable: refused"
    assert str(HostUnavailable("h")) == "Docker host 'h' is unavailable"
    assert str(HostUnavailable(errors.ANY_HOST)) == "no live Docker host in the fleet"


def test_broker_errors_say_what_failed_and_what_to_do() -> None:
    url = "redis://r:6379/0"
    assert str(BrokerUnavailable(url, "Connection refused", "start it")) == (
        "cannot reach the fleet's Redis at redis://r:6379/0 (Connection refused): start it"
    )
    assert str(errors.BrokerTimeout(url, "did not answer within 5s", "start it")) == (
        "Redis at redis://r:6379/0 did not answer within 5s: start it"
    )
    refused = errors.BrokerAuthError(url, "refused the password", "check it")
    assert str(refused) == "Redis at redis://r:6379/0 refused the password: check it"
    # a wrong password does not mend by itself: no task retries it
    assert isinstance(refused, BrokerUnavailable) and refused.transient is False


@pytest.mark.parametrize(
    "cls", [HostUnavailable, BrokerUnavailable, errors.EngineBusy], ids=lambda c: c.__name__
)
def test_unreachable_and_busy_errors_are_transient(cls: type[FleetError]) -> None:
    assert cls.transient is True
    assert issubclass(cls, errors.TransientError)


@pytest.mark.parametrize(
    "cls",
    [
        InvalidSpec,
        PolicyViolation,
        ContainerLimitReached,
        ContainerNotFound,
        ImageNotFound,
        NetworkNotFound,
        errors.Conflict,
        AmbiguousReference,
        errors.OperationTimeout,
        errors.JobTimeout,
        errors.JobCanceled,
        errors.EngineError,
        errors.NetworkInUse,
        errors.CacheInUse,
        errors.RegistryAuthError,
        errors.BuildFailed,
    ],
    ids=lambda c: c.__name__,
)
def test_refusals_are_permanent(cls: type[FleetError]) -> None:
    assert cls.transient is False
    assert issubclass(cls, errors.PermanentError)


def test_every_error_has_one_root_and_one_branch() -> None:
    for cls in every_error_class():
        if cls in (FleetError, errors.TransientError, errors.PermanentError):
            continue
        assert issubclass(cls, errors.TransientError) != issubclass(cls, errors.PermanentError)
