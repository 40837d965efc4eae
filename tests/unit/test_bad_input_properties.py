"""10,000 generated specs: every invalid one is refused with an error that names its field."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from dockfleet.errors import InvalidSpec
from dockfleet.models import ContainerConfig, ContainerFilter, JobSpec, LogOptions
from dockfleet.validation import parse

ANY = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=30)
    | st.sampled_from(["512m", "1g", "-1", "/abs", "rel/path", "80/tcp", "K=V", "x" * 600]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def spec_of(model: type[Any], required: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts over the model's own field names (plus a stranger), values of any shape."""
    names = sorted(model.model_fields) + ["no_such_field"]
    optional = st.dictionaries(st.sampled_from(names), ANY, max_size=4)
    return st.builds(
        lambda base, extra: {**base, **extra}, st.fixed_dictionaries(required), optional
    )


CONTAINER = spec_of(ContainerConfig, {"image": st.sampled_from(["busybox:local", "", "a b", "ok"])})
CASES = st.one_of(
    st.tuples(st.just(ContainerConfig), CONTAINER),
    st.tuples(st.just(ContainerFilter), spec_of(ContainerFilter, {})),
    st.tuples(st.just(LogOptions), spec_of(LogOptions, {})),
    st.tuples(st.just(JobSpec), spec_of(JobSpec, {"container": CONTAINER})),
)


@settings(
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(CASES)
def test_every_invalid_spec_is_refused_naming_a_field_it_has(
    case: tuple[type[Any], dict[str, Any]],
) -> None:
    model, data = case
    try:
        model.model_validate(data)
    except ValidationError as exc:
        fields = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        # Each problem is pinned on a field of the input (cross-field rules name theirs).
        assert fields <= set(data) | {"container", "image"}, (fields, sorted(data))
        with pytest.raises(InvalidSpec) as refused:
            parse(model, data)
        for name in fields:
            assert f"{name}" in str(refused.value)
    else:
        assert parse(model, data) is not None
