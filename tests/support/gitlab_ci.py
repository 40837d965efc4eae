"""gitlab-ci-local, playing GitLab for the pipeline tests: a repository, a run, its log.

gitlab-ci-local (``make setup``: scripts/gitlab-ci-local.sh) runs a ``.gitlab-ci.yml``
as a shell runner would when its jobs have no ``image:``, CI/CD variables given as
``--variable``. The pipelines are the docs' own blocks (``docs/ci``), written as they are
into a fresh git repository but for one image name swapped for a local stand-in: the
test checks that the name is there to swap, so the doc cannot drift from what runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.doc_blocks import CI_DOCS, titled_block
from tests.support.services import REPO, require

GITLAB_CI_LOCAL = REPO / ".state" / "node" / "node_modules" / ".bin" / "gitlab-ci-local"


@pytest.fixture
def repo() -> Iterator[Path]:
    """A fresh folder for a git repository (gitlab-ci-local needs a commit)."""
    folder = Path(tempfile.mkdtemp(prefix="dockfleet-gitlab-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def write_doc_pipeline(
    folder: Path, doc: str, paths: tuple[str, ...], image: tuple[str, str], extra: dict[str, str]
) -> None:
    """Commit the blocks of ``docs/ci/<doc>`` titled `paths` into `folder`, with
    `image` = (the doc's image, its stand-in) swapped, plus the `extra` files."""
    doc_image, standin = image
    files = dict(extra)
    for path in paths:
        text = titled_block(CI_DOCS / doc, path)
        assert doc_image in text, f"{path} no longer names {doc_image}: update the test"
        files[path] = text.replace(doc_image, standin)
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    git = ["git", "-C", str(folder), "-c", "user.name=ci", "-c", "user.email=ci@example.com"]
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "the example"]):
        subprocess.run([*git, *args], check=True, capture_output=True)


def gitlab_ci_local(
    folder: Path, *options: str, **variables: str
) -> subprocess.CompletedProcess[str]:
    """Run the pipeline in `folder` as a shell runner would, `variables` as CI/CD variables."""
    require(GITLAB_CI_LOCAL.exists(), "gitlab-ci-local (make setup: scripts/gitlab-ci-local.sh)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKFLEET_", "FLOWER_"))}
    # `dockfleet` on PATH, as on a runner where it is installed; an empty state folder, so
    # the only way to the fleet is the DOCKFLEET_REDIS_URL variable (no `up` env file).
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["DOCKFLEET_STATE_DIR"] = str(folder / ".no-fleet-here")
    env["FORCE_COLOR"] = "0"
    args = [str(GITLAB_CI_LOCAL), *options]
    for name, value in variables.items():
        args += ["--variable", f"{name}={value}"]
    return subprocess.run(
        args, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=240,
    )  # fmt: skip


def printed(out: str, job: str, line: str) -> bool:
    """Whether gitlab-ci-local's log shows `line` as output of `job` (names are padded)."""
    return re.search(rf"^{job} +> {re.escape(line)}$", out, re.MULTILINE) is not None


def passed(out: str, job: str) -> bool:
    """Whether gitlab-ci-local's summary shows `job` as passed."""
    return re.search(rf"^ PASS +{job}$", out, re.MULTILINE) is not None
