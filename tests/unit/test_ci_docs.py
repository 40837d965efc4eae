"""The CI examples of docs/ci agree: one job file, its secret from the environment only."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dockfleet.errors import InvalidSpec
from dockfleet.job_file import load_job_file
from tests.support.doc_blocks import CI_DOCS, titled_block

GITLAB = CI_DOCS / "gitlab.md"
GITHUB = CI_DOCS / "github-actions.md"
RUN_STEP = "dockfleet run -f ci/job.yml"


def test_the_github_example_runs_the_job_file_the_gitlab_test_runs() -> None:
    assert titled_block(GITHUB, "ci/job.yml") == titled_block(GITLAB, "ci/job.yml")


def test_the_example_job_file_gives_db_password_to_the_job_and_its_database(
    tmp_path: Path,
) -> None:
    # Given the examples' job file, and DB_PASSWORD in the environment (a CI variable)
    job = tmp_path / "job.yml"
    job.write_text(titled_block(GITLAB, "ci/job.yml"))

    spec = load_job_file(job, {"DB_PASSWORD": "pw-1"})

    # Then the job's psql and the postgres service get it as a secret, never as plain env
    assert spec.container.secret_env["PGPASSWORD"].get_secret_value() == "pw-1"
    (db,) = spec.services
    assert db.alias == "db" and "PGHOST=db" in spec.container.env
    assert db.container.secret_env["POSTGRES_PASSWORD"].get_secret_value() == "pw-1"
    # And without the variable nothing is sent: the error names it
    with pytest.raises(InvalidSpec, match="DB_PASSWORD is not set"):
        load_job_file(job, {})


@pytest.mark.parametrize("doc", [GITLAB, GITHUB], ids=["gitlab", "github"])
def test_no_pipeline_line_holds_the_secret_itself(doc: Path) -> None:
    title = ".gitlab-ci.yml" if doc == GITLAB else ".github/workflows/ci.yml"
    pipeline = titled_block(doc, title)
    yaml.safe_load(pipeline)  # it parses
    assert RUN_STEP in pipeline
    assert "POSTGRES_PASSWORD" not in pipeline and "--secret-env" not in pipeline


def test_the_github_workflow_gives_the_secrets_through_the_environment() -> None:
    workflow = yaml.safe_load(titled_block(GITHUB, ".github/workflows/ci.yml"))
    job = workflow["jobs"]["integration"]
    assert job["env"] == {
        "DOCKFLEET_REDIS_URL": "${{ secrets.DOCKFLEET_REDIS_URL }}",
        "DB_PASSWORD": "${{ secrets.DB_PASSWORD }}",
    }
    assert {"run": RUN_STEP} in job["steps"]
