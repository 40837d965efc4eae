"""Job files and secrets from the environment: loading, resolving, flags over the file, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from dockfleet.cli.jobs import run
from dockfleet.cli.main import cli, register_commands
from dockfleet.cli.run_spec import job_spec
from dockfleet.env_sources import read_env_file
from dockfleet.errors import InvalidSpec, PolicyViolation
from dockfleet.job_file import load_job_file, overlay
from dockfleet.models import ContainerConfig, JobSpec
from tests.support.services import REPO

SECRET = "s3cret-Pg-9f2c"
JOB = """\
container:
  image: busybox:local
  cmd: sh -c 'echo hi'
  env: {MODE: test, RETRIES: 3, DEBUG: true, SHA: {from_env: CI_COMMIT_SHA}}
  secret_env: {TOKEN: {from_env: CI_TOKEN}}
  memory_limit: 256m
  labels: {team: ci}
services:
  - alias: db
    readiness_timeout: 90s
    container:
      image: postgres:16
      env: [POSTGRES_USER=ci, POSTGRES_DB]
      secret_env:
        POSTGRES_PASSWORD: {from_env: PGPASSWORD}
      cmd: [postgres, -c, fsync=off]
      user: "999"
      memory_limit: 1g
      health_check: {test: pg_isready, interval: 1s, retries: 30}
timeout: 10m
pull: never
secret_env: {API_KEY: {from_file: secrets/api-key}}
labels: {pipeline: {from_env: CI_PIPELINE_ID}}
"""
ENV = {
    "CI_COMMIT_SHA": "abc123",
    "CI_TOKEN": "tok-" + SECRET,
    "PGPASSWORD": SECRET,
    "POSTGRES_DB": "ci",
    "CI_PIPELINE_ID": "42",
}


@pytest.fixture
def job_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The job above, its secret file beside it, its variables in the environment."""
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "api-key").write_text("key-" + SECRET + "\n")
    path = tmp_path / "job.yml"
    path.write_text(JOB)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    return path


def write(tmp_path: Path, text: str, name: str = "job.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def refusal(path: Path, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(InvalidSpec) as caught:
        load_job_file(path, environ or {})
    return str(caught.value)


def spec_from(*argv: str) -> JobSpec:
    """The JobSpec `dockfleet run ARGV` would send (the real options, parsed by click)."""
    with run.make_context("run", list(argv)) as ctx:
        return job_spec(ctx)


def secrets_of(config: ContainerConfig) -> dict[str, str]:
    return dict(config.secret_values_by_key())


# -- loading and resolving ---------------------------------------------------------------


def test_a_yaml_job_file_loads_with_every_value_from_the_environment_resolved(
    job_file: Path,
) -> None:
    spec = load_job_file(job_file)

    assert spec.container.env == ["MODE=test", "RETRIES=3", "DEBUG=true", "SHA=abc123"]
    assert secrets_of(spec.container) == {"TOKEN": "tok-" + SECRET}
    assert secrets_of(spec.job_container())["API_KEY"] == "key-" + SECRET  # one newline off
    assert (spec.timeout, spec.pull, spec.labels) == (600.0, "never", {"pipeline": "42"})
    db = spec.services[0]
    assert (db.alias, db.readiness_timeout, db.container.user) == ("db", 90.0, "999")
    assert db.container.env == ["POSTGRES_USER=ci", "POSTGRES_DB=ci"]  # bare KEY: the caller's
    assert secrets_of(db.container) == {"POSTGRES_PASSWORD": SECRET}
    assert db.container.cmd == ["postgres", "-c", "fsync=off"]
    assert db.container.memory_limit == 1024**3
    assert db.container.health_check and db.container.health_check.retries == 30


def test_a_json_job_file_loads_the_same_spec_as_its_yaml(job_file: Path) -> None:
    as_json = job_file.with_name("job.json")
    as_json.write_text(json.dumps(yaml.safe_load(JOB)))
    assert load_job_file(as_json) == load_job_file(job_file)


def test_an_explicit_environ_is_where_from_env_looks(job_file: Path) -> None:
    spec = load_job_file(job_file, {**ENV, "PGPASSWORD": "other"})
    assert secrets_of(spec.services[0].container) == {"POSTGRES_PASSWORD": "other"}


def test_a_missing_variable_names_the_file_and_the_fields_path(job_file: Path) -> None:
    environ = {k: v for k, v in ENV.items() if k != "PGPASSWORD"}
    assert refusal(job_file, environ) == (
        f"{job_file}: services.0.container.secret_env.POSTGRES_PASSWORD: "
        "environment variable PGPASSWORD is not set"
    )


def test_an_empty_variable_is_a_value_not_a_missing_one(job_file: Path) -> None:
    spec = load_job_file(job_file, {**ENV, "CI_COMMIT_SHA": ""})
    assert "SHA=" in spec.container.env


def test_a_bare_key_of_an_env_list_that_is_unset_names_its_index(job_file: Path) -> None:
    environ = {k: v for k, v in ENV.items() if k != "POSTGRES_DB"}
    assert refusal(job_file, environ) == (
        f"{job_file}: services.0.container.env.1: environment variable POSTGRES_DB is not set"
    )


def test_a_literal_secret_stays_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, "container: {image: b}\nsecret_env: {TOKEN: literal}\n")
    assert secrets_of(load_job_file(path, {}).job_container()) == {"TOKEN": "literal"}


def test_a_missing_secret_file_names_the_field(job_file: Path) -> None:
    (job_file.parent / "secrets" / "api-key").unlink()
    message = refusal(job_file, ENV)
    assert message.startswith(f"{job_file}: secret_env.API_KEY: cannot read ")


def test_a_secret_file_loses_one_trailing_newline_only(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("line1\nline2\n\n")
    path = write(tmp_path, "container: {image: b, secret_env: {P: {from_file: pw}}}")
    assert secrets_of(load_job_file(path, {}).container) == {"P": "line1\nline2\n"}


def test_a_reference_of_another_shape_is_refused_by_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, "container: {image: b, env: {A: {from_vault: x}}}")
    assert refusal(path).startswith(f"{path}: container.env.A: expected text, {{from_env")


def test_x_keys_are_left_out_so_yaml_anchors_have_a_home(tmp_path: Path) -> None:
    text = "x-mem: &mem {memory_limit: 64m}\ncontainer: {image: b, <<: *mem}\n"
    assert load_job_file(write(tmp_path, text), {}).container.memory_limit == 64 * 1024**2


# -- the env mapping form, in the model itself ---------------------------------------------


def test_container_config_takes_env_as_a_mapping_too() -> None:
    config = ContainerConfig(image="b", env={"A": "1", "N": 2, "ON": True})  # type: ignore[arg-type]
    assert config.env == ["A=1", "N=2", "ON=true"]


def test_an_env_mapping_value_that_is_not_text_is_refused() -> None:
    with pytest.raises(ValueError, match="'A': a value must be text or a number"):
        ContainerConfig(image="b", env={"A": None})  # type: ignore[arg-type]


# -- bad files --------------------------------------------------------------------------------


def test_a_yaml_syntax_error_names_the_line_and_column_but_not_the_text(tmp_path: Path) -> None:
    path = write(tmp_path, f"container:\n  image: b\n  secret_env: {{P: {SECRET}\ntimeout: 1\n")
    message = refusal(path)
    assert re.match(rf"{re.escape(str(path))}: line \d+, column \d+: ", message), message
    assert SECRET not in message


def test_an_unknown_field_is_refused_with_its_path(tmp_path: Path) -> None:
    text = "container: {image: b}\nservices: [{alias: db, container: {memroy_limit: 1g}}]\n"
    path = write(tmp_path, text.replace("{memroy", "{image: pg, memroy"))
    assert refusal(path) == (
        f"{path}: services.0.container.memroy_limit: Extra inputs are not permitted"
    )


def test_a_wrong_type_is_refused_with_its_path_and_no_secret(tmp_path: Path) -> None:
    text = f"container: {{image: b, secret_env: {{P: {SECRET}}}, cpu_limit: lots}}\n"
    message = refusal(write(tmp_path, text))
    assert "container.cpu_limit: " in message and SECRET not in message


@pytest.mark.parametrize(
    ("text", "says"),
    [("", "the file is empty"), ("- a\n", "expected a mapping of job fields")],
)
def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str, says: str) -> None:
    path = write(tmp_path, text)
    assert refusal(path).startswith(f"{path}: {says}")


def test_an_unreadable_file_is_refused_naming_it(tmp_path: Path) -> None:
    assert "cannot read " + str(tmp_path / "nope.yml") in refusal(tmp_path / "nope.yml")


# -- env files --------------------------------------------------------------------------------


def test_an_env_file_reads_as_docker_reads_it(tmp_path: Path) -> None:
    # Given docker's format: comments, blanks, leading blanks, = in values, quotes, bare keys
    text = (
        "\ufeff# comment=ignored\n\n   \nA=1\n  B=x=y==\nQ=\"quoted\"\nS='single'\n"
        "T=trailing  \nE=\nHOME_DIR\r\nW=# not a comment\n"
    )
    pairs = read_env_file(write(tmp_path, text, "ci.env"), {"HOME_DIR": "/home/ci"})
    # Then values are literal, as `docker run --env-file` (28.x) keeps them
    assert pairs == [
        ("A", "1"),
        ("B", "x=y=="),
        ("Q", '"quoted"'),
        ("S", "'single'"),
        ("T", "trailing  "),
        ("E", ""),
        ("HOME_DIR", "/home/ci"),
        ("W", "# not a comment"),
    ]


def test_a_bare_key_missing_from_the_environment_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "A=1\nPGPASSWORD\n", "ci.env")
    with pytest.raises(InvalidSpec, match=f"^{path}:2: environment variable PGPASSWORD is not"):
        read_env_file(path, {})


@pytest.mark.parametrize("line", [f"my {SECRET}", f"=={SECRET}", f"K {SECRET}=x"])
def test_a_bad_env_file_line_is_refused_without_quoting_it(tmp_path: Path, line: str) -> None:
    path = write(tmp_path, f"A=1\n{line}\n", "ci.env")
    with pytest.raises(InvalidSpec) as caught:
        read_env_file(path, {})
    assert str(caught.value).startswith(f"{path}:2: not KEY=VALUE")
    assert SECRET not in str(caught.value)


# -- flags over the file ----------------------------------------------------------------------


def test_flags_left_out_keep_the_files_values_even_where_they_have_defaults(
    job_file: Path,
) -> None:
    spec = spec_from("-f", str(job_file))
    assert spec == load_job_file(job_file)  # timeout 10m, pull never: not the flags' 1h, ...


def test_a_scalar_flag_replaces_the_files_value(job_file: Path) -> None:
    spec = spec_from(
        *("-f", str(job_file), "--timeout", "5m", "--pull", "always", "-m", "1g", "-u", "1000"),
        *("--read-only", "--host", "h1", "--no-job-network"),
    )
    assert (spec.timeout, spec.pull, spec.host, spec.network) == (300.0, "always", "h1", False)
    assert spec.container.memory_limit == 1024**3 and spec.container.user == "1000"
    assert spec.container.read_only is True
    assert spec.container.cmd == ["sh", "-c", "echo hi"]  # untouched


def test_repeatable_flags_add_to_the_files_entries_a_same_key_replacing(
    job_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEW_TOKEN", "new-" + SECRET)
    monkeypatch.setenv("API_KEY", "from-env")
    spec = spec_from(
        *("-f", str(job_file), "-e", "MODE=ci", "-e", "EXTRA=1", "-l", "team=qa", "-l", "x=y"),
        *("--secret-env", "TOKEN=flag", "--secret-env", "API_KEY", "--secret-env", "NEW_TOKEN"),
        *("--service", "redis:7=cache", "--service", "postgres:17=db", "--cap-add", "chown"),
    )
    assert spec.container.env == ["RETRIES=3", "DEBUG=true", "SHA=abc123", "MODE=ci", "EXTRA=1"]
    assert spec.container.labels == {"team": "qa", "x": "y"}
    # A flag's secret wins over the file's container and job-level secrets alike.
    assert secrets_of(spec.job_container()) == {
        "TOKEN": "flag",
        "API_KEY": "from-env",
        "NEW_TOKEN": "new-" + SECRET,
    }
    assert [(s.alias, s.container.image) for s in spec.services] == [
        ("cache", "redis:7"),
        ("db", "postgres:17"),
    ]
    assert spec.container.cap_add == ["CHOWN"]


def test_image_replaces_the_files_image_and_tag_and_a_command_its_cmd(tmp_path: Path) -> None:
    path = write(tmp_path, "container: {image: busybox, tag: '1.36', cmd: [make, test]}\n")
    assert spec_from("-f", str(path), "alpine:3").container.cmd == ["make", "test"]
    spec = spec_from("-f", str(path), "alpine:3", "--", "sh", "-c", "true")
    assert (spec.container.reference, spec.container.cmd) == ("alpine:3", ["sh", "-c", "true"])


def test_without_a_file_the_flags_alone_make_the_job_with_the_models_defaults() -> None:
    spec = spec_from("busybox", "--", "echo", "hi")
    assert spec == JobSpec(container=ContainerConfig(image="busybox", cmd=["echo", "hi"]))


def test_neither_a_file_nor_an_image_is_a_usage_error() -> None:
    with pytest.raises(Exception, match="give an IMAGE, or a job file with -f"):
        spec_from("--timeout", "1m")


# -- secrets from the environment on the command line -----------------------------------------


def test_bare_env_and_secret_env_flags_take_the_callers_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PGPASSWORD", SECRET)
    monkeypatch.setenv("CI_JOB_ID", "77")
    secret_file = write(tmp_path, "S1=one\nS2=two\n", "secret.env")
    spec = spec_from(
        *("-e", "CI_JOB_ID", "--secret-env", "PGPASSWORD", "--secret-env-file", str(secret_file)),
        *("--secret-env", "S2=flag", "b"),
    )
    assert spec.container.env == ["CI_JOB_ID=77"]
    assert secrets_of(spec.job_container()) == {"S1": "one", "S2": "flag", "PGPASSWORD": SECRET}


def test_a_bare_secret_env_flag_for_an_unset_variable_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    with pytest.raises(InvalidSpec) as caught:
        spec_from("--secret-env", "PGPASSWORD", "b")
    assert (
        str(caught.value) == "--secret-env PGPASSWORD: environment variable PGPASSWORD is not set"
    )


# -- dry run ----------------------------------------------------------------------------------


def dry_run(*argv: str) -> tuple[int, str, BaseException | None]:
    register_commands()
    result = CliRunner().invoke(cli, ["run", "--dry-run", *argv])
    return result.exit_code, result.stdout, result.exception


def test_dry_run_prints_the_resolved_spec_with_every_secret_masked(job_file: Path) -> None:
    code, out, error = dry_run("-f", str(job_file), "--secret-env", f"EXTRA={SECRET}x")
    assert (code, error) == (0, None)
    shown = json.loads(out)
    assert shown["services"][0]["container"]["secret_env"] == {"POSTGRES_PASSWORD": "***"}
    assert shown["secret_env"] == {"API_KEY": "***", "EXTRA": "***"}
    assert shown["container"]["env"][-1] == "SHA=abc123" and shown["timeout"] == 600.0
    assert SECRET not in out


def test_dry_run_applies_the_producers_policy(tmp_path: Path) -> None:
    path = write(tmp_path, "container: {image: b, volumes: {/etc: /x}}\n")
    code, _, error = dry_run("-f", str(path))
    assert code != 0 and isinstance(error, PolicyViolation)


# -- the documentation's examples parse --------------------------------------------------------


def test_every_yaml_example_of_the_job_file_doc_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = (REPO / "docs" / "job-files.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", doc, re.DOTALL)
    assert blocks
    for name in set(re.findall(r"from_env: (\w+)", doc)):
        monkeypatch.setenv(name, "value-of-" + name)
    for number, block in enumerate(blocks):
        for secret_path in re.findall(r"from_file: ([\w./-]+)", block):
            (tmp_path / secret_path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / secret_path).write_text("secret\n")
        spec = load_job_file(write(tmp_path, block, f"doc-{number}.yml"))
        assert spec.container.image


def test_the_env_file_example_of_the_doc_reads_as_it_says(tmp_path: Path) -> None:
    doc = (REPO / "docs" / "job-files.md").read_text()
    (block,) = re.findall(r"```dotenv\n(.*?)```", doc, re.DOTALL)
    pairs = dict(read_env_file(write(tmp_path, block, "ci.env"), {"PGPASSWORD": SECRET}))
    assert pairs["GREETING"] == '"hello"' and pairs["PGPASSWORD"] == SECRET
    assert pairs["DATABASE_URL"] == "postgres://db/ci?sslmode=disable&application_name=ci"
    assert pairs["INDENTED"] == "the leading blanks are dropped"


def test_overlay_merges_mappings_and_keyed_lists_and_replaces_the_rest() -> None:
    base = {"a": 1, "m": {"x": 1, "y": 2}, "env": ["A=1", "B=2"], "cmd": ["x", "y"]}
    top = {"a": 2, "m": {"y": 3}, "env": ["B=3"], "cmd": ["z"]}
    merged = {"a": 2, "m": {"x": 1, "y": 3}, "env": ["A=1", "B=3"], "cmd": ["z"]}
    assert overlay(base, top) == merged
