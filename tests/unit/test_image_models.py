"""Image, build and network models: references, secrecy of credentials, validation."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from dockfleet import (
    BuildContext,
    BuildOptions,
    NetworkOptions,
    PullSpec,
    RegistryCredentials,
    Settings,
)
from dockfleet.models.images import check_reference, registry_of, with_default_tag


@pytest.mark.parametrize(
    ("reference", "registry"),
    [
        ("busybox", "docker.io"),
        ("library/busybox:1.36", "docker.io"),
        ("team/app:1", "docker.io"),
        ("127.0.0.1:5000/team/app:1", "127.0.0.1:5000"),
        ("registry.example.com/app", "registry.example.com"),
        ("localhost/app@sha256:" + "a" * 64, "localhost"),
        ("index.docker.io/library/busybox", "docker.io"),
    ],
)
def test_registry_of_a_reference_follows_the_docker_cli(reference: str, registry: str) -> None:
    assert registry_of(reference) == registry


def test_default_tag_is_added_only_when_neither_tag_nor_digest_is_given() -> None:
    assert with_default_tag("reg:5000/app") == "reg:5000/app:latest"
    assert with_default_tag("reg:5000/app:1") == "reg:5000/app:1"
    assert with_default_tag("app@sha256:" + "b" * 64) == "app@sha256:" + "b" * 64


@pytest.mark.parametrize("bad", ["", "UPPER/app", "app:", "a b", "app:tag:more", "/app", "app@x"])
def test_malformed_references_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        check_reference(bad)


def test_credentials_are_masked_everywhere_but_the_wire() -> None:
    # Given credentials in a pull spec
    spec = PullSpec(
        reference="reg:5000/app:1",
        credentials=RegistryCredentials(username="ci", password="hunter2-secret"),
    )
    # Then repr, str, plain dumps and JSON never show the password
    shown = [repr(spec), str(spec), json.dumps(spec.model_dump(mode="json")),
             spec.model_dump_json()]  # fmt: skip
    assert all("hunter2-secret" not in text for text in shown)
    assert spec.model_dump(mode="json")["credentials"]["password"] == "***"
    # And only the wire form carries it, which the worker reads back whole
    wire = spec.model_dump(mode="json", context={"reveal_secrets": True})
    assert wire["credentials"]["password"] == "hunter2-secret"
    again = PullSpec.model_validate(wire)
    assert again.credentials is not None
    assert again.credentials.auth_config(again.reference) == {
        "username": "ci",
        "password": "hunter2-secret",
        "serveraddress": "reg:5000",
    }


def test_settings_read_registry_credentials_from_env_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "DOCKFLEET_REGISTRY_AUTH",
        json.dumps({"https://Reg.Example:5000/v2/": {"username": "u", "password": "p-secret"}}),
    )
    settings = Settings()
    found = settings.credentials_for("reg.example:5000")
    assert found is not None and found.password.get_secret_value() == "p-secret"
    assert settings.credentials_for("other:5000") is None
    assert "p-secret" not in repr(settings)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"dockerfile": "../Dockerfile"}, "dockerfile"),
        ({"dockerfile": "/etc/Dockerfile"}, "dockerfile"),
        ({"build_args": {"BAD-NAME": "x"}}, "build_args"),
        ({"labels": {"dockfleet.host": "forged"}}, "labels"),
        ({"tags": ["Not A Tag"]}, "tags"),
    ],
)
def test_build_options_refuse_what_would_escape_or_forge(
    options: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        BuildOptions.model_validate(options)
    assert caught.value.errors()[0]["loc"][0] == field


def test_build_options_keep_the_originals_fields() -> None:
    options = BuildOptions(tags=["a/b:1", "a/b:2"], dockerfile="docker/Dockerfile.ci",
                           no_cache=True, build_args={"V": "1"})  # fmt: skip
    assert (options.tags, options.dockerfile, options.no_cache, options.build_args) == (
        ["a/b:1", "a/b:2"], "docker/Dockerfile.ci", True, {"V": "1"}
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "location", "ok"),
    [
        ("path", "/srv/ci/ctx", True),
        ("path", "relative/ctx", False),
        ("url", "https://example.com/ctx.tar", True),
        ("url", "ftp://example.com/ctx.tar", False),
        ("upload", "0123456789abcdef0123456789abcdef", True),
        ("upload", "../../etc", False),
    ],
)
def test_build_context_location_must_fit_its_kind(kind: str, location: str, ok: bool) -> None:
    if ok:
        BuildContext.model_validate({"kind": kind, "location": location})
    else:
        with pytest.raises(ValidationError):
            BuildContext.model_validate({"kind": kind, "location": location})


def test_network_options_check_subnet_and_gateway() -> None:
    assert NetworkOptions(subnet="10.9.0.0/24", gateway="10.9.0.1").gateway == "10.9.0.1"
    with pytest.raises(ValidationError, match="outside subnet"):
        NetworkOptions(subnet="10.9.0.0/24", gateway="10.8.0.1")
    with pytest.raises(ValidationError, match="gateway needs a subnet"):
        NetworkOptions(gateway="10.9.0.1")
    with pytest.raises(ValidationError, match="CIDR"):
        NetworkOptions(subnet="10.9.0.1/24")  # host bits set
    with pytest.raises(ValidationError, match="reserved"):
        NetworkOptions(labels={"dockfleet.managed": "true"})
