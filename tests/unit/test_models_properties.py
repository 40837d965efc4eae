"""Property tests of ContainerConfig's parsers: ports, sizes, durations."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockfleet.errors import InvalidSpec
from dockfleet.models import ContainerConfig
from dockfleet.validation import parse

ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
host_ports = st.tuples(st.one_of(st.none(), ipv4), st.integers(0, 65535)).map(
    lambda t: f"{t[0]}:{t[1]}" if t[0] else str(t[1])
)
container_ports = st.tuples(
    st.integers(1, 65535), st.sampled_from(["", "/tcp", "/udp", "/sctp"])
).map(lambda t: f"{t[0]}{t[1]}")


@given(host=host_ports, container=container_ports)
def test_any_valid_port_pair_is_accepted_and_round_trips(host: str, container: str) -> None:
    cfg = ContainerConfig(image="busybox", ports={host: container})

    again = ContainerConfig.model_validate(cfg.model_dump(mode="json"))

    assert again.ports == {host: container}
    assert again == cfg


@given(port=st.integers(65536, 10**7))
def test_any_host_port_above_65535_is_rejected_naming_ports(port: int) -> None:
    with pytest.raises(InvalidSpec) as caught:
        parse(ContainerConfig, {"image": "busybox", "ports": {str(port): "80"}})
    assert "ports" in str(caught.value)
    assert str(port) in str(caught.value)


@given(text=st.text(alphabet=st.characters(blacklist_categories=["Nd"]), max_size=12))
def test_any_memory_string_without_digits_is_rejected_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidSpec) as caught:
        parse(ContainerConfig, {"image": "busybox", "memory_limit": text})
    assert "memory_limit" in str(caught.value)


@given(
    number=st.integers(1, 10**6),
    unit=st.sampled_from(["k", "m", "g", "t", "K", "M", "G"]),
    suffix=st.sampled_from(["", "b", "B", "ib", "iB"]),
)
def test_memory_units_are_binary_multiples(number: int, unit: str, suffix: str) -> None:
    factor = 1024 ** ("kmgt".index(unit.lower()) + 1)
    cfg = ContainerConfig(image="busybox", memory_limit=f"{number}{unit}{suffix}")  # type: ignore[arg-type]
    assert cfg.memory_limit == number * factor


@given(minutes=st.integers(0, 600), seconds=st.integers(0, 59))
def test_health_check_durations_parse_minutes_and_seconds(minutes: int, seconds: int) -> None:
    cfg = ContainerConfig.model_validate(
        {"image": "busybox", "health_check": {"test": "true", "interval": f"{minutes}m{seconds}s"}}
    )
    assert cfg.health_check is not None
    assert cfg.health_check.interval == minutes * 60 + seconds
