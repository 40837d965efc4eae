"""Image names a build or tag may produce, and the bases a Dockerfile may build from."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dockfleet.errors import PolicyViolation
from dockfleet.policy_images import check_bases, check_produced_name, dockerfile_bases
from dockfleet.policy_model import SecurityPolicy

ALLOWED = SecurityPolicy(allowed_images=["reg:5000/ci/*"])


def test_bases_are_every_from_and_copy_from_with_arguments_and_stages_resolved() -> None:
    dockerfile = """\
# syntax is ignored
ARG BASE=reg:5000/ci/python:3.11
FROM --platform=linux/amd64 ${BASE} AS build
RUN make
FROM \\
  reg:5000/ci/runtime:1
COPY --from=build /out /out
COPY --from=reg:5000/ci/tools:2 /bin/tool /bin/tool
COPY --from=0 /x /x
FROM scratch
"""
    assert dockerfile_bases(dockerfile, {}) == [
        "reg:5000/ci/python:3.11",
        "reg:5000/ci/runtime:1",
        "reg:5000/ci/tools:2",
    ]
    # A build argument given for the build wins over the ARG default
    assert dockerfile_bases(dockerfile, {"BASE": "evil:1"})[0] == "evil:1"


def test_a_base_named_by_an_argument_without_a_value_is_refused() -> None:
    with pytest.raises(PolicyViolation, match="build argument IMAGE has no value"):
        dockerfile_bases("ARG IMAGE\nFROM $IMAGE\n", {})


@given(
    base=st.from_regex(r"[a-z0-9]{1,8}(/[a-z0-9]{1,8})?(:[a-z0-9.]{1,6})?", fullmatch=True),
    via=st.sampled_from(["FROM {}", "FROM --platform=linux/amd64 {} AS x", "COPY --from={} / /"]),
    through_arg=st.booleans(),
)
def test_any_base_outside_the_allow_list_is_refused_however_it_is_written(
    base: str, via: str, through_arg: bool
) -> None:
    # A number after --from names a stage by its index, never an image (as the engine reads it)
    assume(not base.isdigit())
    reference = "${B}" if through_arg else base
    dockerfile = f"FROM reg:5000/ci/base:1\n{via.format(reference)}\n"
    args = {"B": base} if through_arg else {}
    with pytest.raises(PolicyViolation):
        check_bases(dockerfile, args, ALLOWED)


def test_a_remote_context_cannot_be_checked_so_it_is_refused_under_an_allow_list() -> None:
    with pytest.raises(PolicyViolation, match="remote build context"):
        check_bases(None, {}, ALLOWED)
    check_bases(None, {}, SecurityPolicy())  # no list: any base


@pytest.mark.parametrize("name", ["other/app:1", "reg:5000/ci", "reg:5000/cix/app:1"])
def test_a_build_or_tag_cannot_produce_a_name_outside_the_allow_list(name: str) -> None:
    with pytest.raises(PolicyViolation, match="allowed-images"):
        check_produced_name(name, ALLOWED, [])


@pytest.mark.parametrize("name", ["reg:5000/ci/base", "reg:5000/ci/base:latest"])
def test_a_build_or_tag_cannot_replace_a_pinned_image(name: str) -> None:
    with pytest.raises(PolicyViolation, match="image-pin"):
        check_produced_name(name, ALLOWED, ["reg:5000/ci/base:*"])
    check_produced_name("reg:5000/ci/app:1", ALLOWED, ["reg:5000/ci/base:*"])
