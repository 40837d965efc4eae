"""Namespaces, networks and the fleet's own names, refused on the producer (no engine at all).

Generated spellings of each class of issue 14's classes 3 and 4: a container
joining another's network namespace or a job's network, networks made with
drivers, options or subnets outside the policy, and labels, names, request ids
and job ids that would forge the fleet's own. A `Fleet` whose Redis is
unreachable proves the refusal comes before anything is sent.
"""

from __future__ import annotations

import ipaddress
import string
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from dockfleet import Fleet, Settings
from dockfleet.errors import InvalidSpec, PolicyViolation
from dockfleet.models import BuildOptions, ContainerConfig, JobSpec, NetworkOptions
from dockfleet.models.jobs import ALIAS_RE
from dockfleet.models.networks import NETWORK_NAME_RE
from dockfleet.names import JOB_ID_RE, JOB_PREFIX, SERVICE_SEPARATOR, object_name
from dockfleet.policy import check_container
from dockfleet.policy_model import PRIVATE_SUBNETS, SAFE_NETWORK_OPTIONS, SecurityPolicy
from dockfleet.policy_scope import check_network_create, check_user_container

POLICY = SecurityPolicy()
NAME_CHARS = string.ascii_letters + string.digits + "_.-"
#: the probe's container name, as worker/jobs/probe.py makes it
PROBE_NAME = "dfj-{job}--probe-{alias}"


def mixed_case(text: str) -> st.SearchStrategy[str]:
    """`text` with each letter in either case."""
    return st.tuples(*(st.sampled_from(sorted({c.lower(), c.upper()})) for c in text)).map("".join)


def spaced(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    blank = st.sampled_from(["", " ", "\t"])
    return st.tuples(blank, inner, blank).map("".join)


RESERVED_NAMES = st.tuples(
    st.sampled_from(["", "/"]),
    st.one_of(mixed_case("dfj-"), mixed_case("dfp-")),
    st.text(NAME_CHARS, max_size=20),
).map("".join)
RESERVED_KEYS = st.tuples(spaced(mixed_case("dockfleet.")), st.text(max_size=20)).map(
    lambda parts: parts[0] + parts[1]
)
#: another container's network namespace, however the engine (or a sloppy reader) spells it
NAMESPACE_MODES = st.tuples(spaced(mixed_case("container")), st.text(max_size=70)).map(
    lambda parts: f"{parts[0]}:{parts[1]}"
)
DASHY = st.text("a1-._", max_size=12)
JOB_IDS = st.tuples(st.sampled_from("ab09"), DASHY).map("".join).filter(JOB_ID_RE.match)
ALIASES = st.tuples(st.sampled_from("ab09"), DASHY).map("".join).filter(ALIAS_RE.match)
PUBLIC_V4 = st.builds(
    lambda address, prefix: ipaddress.ip_network(f"{address}/{prefix}", strict=False),
    st.ip_addresses(v=4),
    st.integers(min_value=8, max_value=30),
).filter(lambda net: not any(net.subnet_of(ipaddress.ip_network(r)) for r in PRIVATE_SUBNETS[:3]))

examples = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def refused(config: dict[str, Any]) -> BaseException:
    """The error `config` meets on the producer, validating then applying the policy."""
    with pytest.raises((ValidationError, PolicyViolation)) as caught:
        spec = ContainerConfig.model_validate({"image": "busybox", **config})
        check_container(spec, POLICY)
        check_user_container(spec)
    return caught.value


@pytest.fixture(scope="module")
def offline_fleet() -> Iterator[Fleet]:
    """A client whose Redis does not answer: a refusal from it was made before any send."""
    fleet = Fleet(Settings(redis_url="redis://127.0.0.1:9/0", default_timeout=1))
    yield fleet
    fleet.close()


# -- class 3: namespaces and networks joined ---------------------------------------


@examples
@given(network=NAMESPACE_MODES)
def test_another_containers_network_namespace_is_never_joined(network: str) -> None:
    error = refused({"network": network})
    assert isinstance(error, PolicyViolation)
    assert error.rule in ("network-namespace", "network-mode")


@examples
@given(network=st.text(max_size=80))
def test_a_network_mode_is_a_shared_mode_or_a_networks_name(network: str) -> None:
    # Given any text as the network, when the producer accepts it, then it is one of the
    # engine's shared modes or the name or id of a network: never a namespace to join
    try:
        spec = ContainerConfig(image="busybox", network=network)
        check_container(spec, SecurityPolicy(allow_host_network=True))
    except (ValidationError, PolicyViolation):
        return
    assert network in ("default", "bridge", "none", "host") or NETWORK_NAME_RE.match(network)
    assert ":" not in network


@examples
@given(network=RESERVED_NAMES.map(lambda name: name.lstrip("/")))
def test_a_jobs_or_pooled_network_is_not_named_by_a_user(network: str) -> None:
    assert isinstance(refused({"network": network}), ValidationError)
    with pytest.raises(ValidationError):
        JobSpec.model_validate({"container": {"image": "busybox", "network": network}})


def test_the_host_network_needs_its_switch() -> None:
    error = refused({"network": "host"})
    assert isinstance(error, PolicyViolation) and error.rule == "host-network"


@examples
@given(
    driver=st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,15}", fullmatch=True).filter(
        lambda d: d != "bridge"
    )
)
def test_network_drivers_are_an_allow_list(driver: str) -> None:
    with pytest.raises(PolicyViolation) as caught:
        check_network_create("ci-net", NetworkOptions(driver=driver), POLICY)
    assert caught.value.rule == "network-driver"
    assert "DOCKFLEET_POLICY__ALLOWED_NETWORK_DRIVERS" in str(caught.value)


@examples
@given(
    key=st.one_of(
        st.text(min_size=1, max_size=40),
        st.sampled_from(
            [
                "parent",
                "macvlan_mode",
                "ipvlan_mode",
                "com.docker.network.bridge.name",
                "com.docker.network.bridge.host_binding_ipv4",
                "com.docker.network.bridge.inhibit_ipv4",
                "com.docker.network.bridge.gateway_mode_ipv4",
                "com.docker.network.enable_ipv6",
            ]
        ),  # fmt: skip
    ),
    value=st.text(max_size=20),
)
def test_driver_options_are_an_allow_list(key: str, value: str) -> None:
    assume(key not in SAFE_NETWORK_OPTIONS)
    with pytest.raises(PolicyViolation) as caught:
        check_network_create("ci-net", NetworkOptions(options={key: value}), POLICY)
    assert caught.value.rule == "network-option" and key in caught.value.value


@examples
@given(subnet=PUBLIC_V4)
def test_a_subnet_outside_the_private_ranges_is_refused(subnet: ipaddress.IPv4Network) -> None:
    # (a bridge on a public range would route those addresses, for the host too, into it)
    with pytest.raises(PolicyViolation) as caught:
        check_network_create("ci-net", NetworkOptions(subnet=str(subnet)), POLICY)
    assert caught.value.rule == "network-subnet"


def test_the_default_network_options_are_accepted() -> None:
    options = NetworkOptions(
        internal=True,
        subnet="10.231.7.0/24",
        gateway="10.231.7.1",
        options={"com.docker.network.bridge.enable_icc": "false"},
    )
    check_network_create("ci-net", options, POLICY)


def test_the_producer_refuses_before_sending_anything(offline_fleet: Fleet) -> None:
    # Given a client whose Redis does not answer, when it is asked for what the policy
    # refuses, then the refusal is the policy's (no connection error: nothing was sent)
    for network in ["container:0123456789ab", "host"]:
        with pytest.raises(PolicyViolation):
            offline_fleet.create_container(ContainerConfig(image="busybox", network=network))
    macvlan = NetworkOptions(driver="macvlan", options={"parent": "eth0"})
    with pytest.raises(PolicyViolation):
        offline_fleet.create_network("lan", macvlan)
    with pytest.raises(PolicyViolation):
        offline_fleet.create_network("dfp-h-0123456789")
    with pytest.raises(PolicyViolation):
        offline_fleet.create_container(ContainerConfig(image="busybox", name="dfj-victim"))
    with pytest.raises(InvalidSpec):
        offline_fleet.run_job({"container": {"image": "busybox", "network": "dfj-victim"}})


# -- class 4: the fleet's own namespace forged --------------------------------------


@examples
@given(key=RESERVED_KEYS)
def test_reserved_label_keys_are_refused_wherever_a_user_writes_labels(key: str) -> None:
    labels = {key: "2000-01-01T00:00:00+00:00"}
    container = {"image": "busybox", "labels": labels}
    service = {"alias": "db", "container": container}
    writers: list[tuple[type[Any], dict[str, Any]]] = [
        (ContainerConfig, container),
        (JobSpec, {"container": {"image": "busybox"}, "labels": labels}),
        (JobSpec, {"container": {"image": "busybox"}, "services": [service]}),
        (NetworkOptions, {"labels": labels}),
        (BuildOptions, {"labels": labels}),
    ]
    for model, data in writers:
        with pytest.raises(ValidationError, match="reserved"):
            model.model_validate(data)


@examples
@given(name=RESERVED_NAMES)
def test_the_fleets_own_names_are_refused_for_user_containers_and_networks(name: str) -> None:
    # Given a container name of the fleet's kinds (dfj- jobs, dfp- pooled networks)
    try:
        config = ContainerConfig(image="busybox", name=name)
    except ValidationError:
        return  # not even a container name
    # Then neither a user's container nor a user's network may have it
    with pytest.raises(PolicyViolation) as caught:
        check_user_container(config)
    assert caught.value.rule == "reserved-name"
    with pytest.raises(PolicyViolation):
        check_network_create(name.lstrip("/"), NetworkOptions(), POLICY)


def test_the_runner_still_names_its_own_containers() -> None:
    # model_copy does not validate: the runner's names and request ids stay possible
    spec = ContainerConfig(image="busybox")
    named = spec.model_copy(
        update={"name": object_name("j1", "db"), "request_id": "j1/db", "network": "dfp-h-1"}
    )
    assert named.name == "dfj-j1--svc-db" and named.request_id == "j1/db"
    check_container(named, POLICY)


@examples
@given(job=JOB_IDS, alias=st.one_of(st.just("job"), ALIASES))
def test_a_user_request_id_never_equals_a_job_runners(job: str, alias: str) -> None:
    with pytest.raises(ValidationError, match="request_id"):
        ContainerConfig(image="busybox", request_id=f"{job}/{alias}")


@examples
@given(request_id=st.text(max_size=70))
def test_request_ids_are_a_safe_charset(request_id: str) -> None:
    try:
        ContainerConfig(image="busybox", request_id=request_id)
    except ValidationError:
        return
    assert 0 < len(request_id) <= 64 and set(request_id) <= set(NAME_CHARS)


def decode(name: str) -> tuple[str, str | None, str]:
    """(job, alias, kind) back from a job object's name: the scheme is injective iff this
    recovers every pair it was given."""
    assert name.startswith(JOB_PREFIX)
    job, sep, rest = name.removeprefix(JOB_PREFIX).partition("--")
    if not sep:
        return job, None, "job"
    kind, _, alias = rest.partition("-")
    return job, alias, kind


@examples
@given(job=JOB_IDS, alias=st.one_of(st.none(), ALIASES))
def test_no_two_jobs_and_aliases_make_one_name(job: str, alias: str | None) -> None:
    # Then each name says which job and which service it is, so no other pair makes it
    assert decode(object_name(job, alias)) == (job, alias, "svc" if alias else "job")
    # And no service or job container is named like a service's probe
    if alias is not None:
        probe = PROBE_NAME.format(job=job, alias=alias)
        assert decode(probe) == (job, alias, "probe")
    assert SERVICE_SEPARATOR.startswith("--")


def test_a_job_id_ending_in_an_alias_no_longer_takes_that_jobs_service_name() -> None:
    # The collision of the old scheme: job "x-db" and job "x"'s service "db"
    assert object_name("x-db") != object_name("x", "db")


@examples
@given(job_id=st.text(NAME_CHARS, min_size=1, max_size=64))
def test_job_ids_that_would_blur_the_naming_are_refused(job_id: str) -> None:
    spec = {"container": {"image": "busybox"}, "job_id": job_id}
    if "--" in job_id or job_id.endswith("-") or not job_id[0].isalnum():
        with pytest.raises(ValidationError, match="job_id"):
            JobSpec.model_validate(spec)
    else:
        assert JobSpec.model_validate(spec).job_id == job_id
