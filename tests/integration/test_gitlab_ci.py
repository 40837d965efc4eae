"""The GitLab examples of docs/ci, run by gitlab-ci-local against a real fleet.

**docs/ci/gitlab.md:**

The doc's ``.gitlab-ci.yml`` and ``ci/job.yml`` blocks are written as they are into a fresh
git repository, with one change: ``postgres:16`` (no registry here) becomes a stand-in
image built on busybox:local. The doc keeps the real image a reader would use, rather than
a placeholder the reader must fill in; the test swaps that one name and checks it is there
to swap, so the doc cannot drift away from what runs. The stand-in behaves as the example
needs: its server refuses to start without ``POSTGRES_PASSWORD`` and answers only the
user and password it was given, and its ``psql`` sends ``PGUSER`` and ``PGPASSWORD``; so
the job passes only if the secret reached the service and the job alike.

**docs/ci/gitlab-artifacts.md**, two stages: ``build`` sends the checkout in
(``--workspace .``), builds ``out/`` from ``src/`` on a fleet host and brings it back
(``--artifact out/``), with a dependency folder in a cache; GitLab's own ``artifacts:``
then carries ``out/`` to ``check``, which reads it in the runner's shell and sends it
back in. gitlab-ci-local runs with ``--shell-isolation``: each job gets its own copy of
the checkout, so ``out/`` can only reach ``check`` the way it would on GitLab.
``alpine:3.20`` becomes busybox:local, which has every command the jobs use.

gitlab-ci-local plays GitLab (`tests.support.gitlab_ci`).
"""

from __future__ import annotations

import io
import re
import secrets
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.conftest import TEST_IMAGE, TEST_LABEL, random_name
from tests.integration.test_up import Cli, cli  # noqa: F401  (the fixture, reused)
from tests.support.gitlab_ci import (  # noqa: F401  (repo: the fixture)
    gitlab_ci_local,
    passed,
    printed,
    repo,
    write_doc_pipeline,
)
from tests.support.services import wait_for

pytestmark = pytest.mark.engine

#: the image the doc names, and so the one the test replaces
DOC_IMAGE = "postgres:16"
STANDIN = {
    "postgres-standin": """#!/bin/sh
# As postgres: no start without a password; then one session per connection on 5432.
[ -n "$POSTGRES_PASSWORD" ] || { echo "POSTGRES_PASSWORD is not set" >&2; exit 1; }
exec nc -ll -p 5432 -e /bin/postgres-standin-session
""",
    "postgres-standin-session": """#!/bin/sh
# "USER PASSWORD" in; what psql prints for `select 1 as ok` out, if both match.
read -r user password
if [ "$user" = "$POSTGRES_USER" ] && [ "$password" = "$POSTGRES_PASSWORD" ]; then
  printf ' ok \\n----\\n  1\\n(1 row)\\n'
else
  echo "psql: error: FATAL:  password authentication failed for user \\"$user\\""
fi
""",
    "psql": """#!/bin/sh
# Sends PGUSER and PGPASSWORD to PGHOST:5432, prints the answer (any query: select 1).
answer=$(printf '%s %s\\n' "$PGUSER" "$PGPASSWORD" | nc -w 5 "$PGHOST" 5432)
echo "$answer"
case "$answer" in " ok"*) exit 0 ;; esac
exit 2
""",
}
DOCKERFILE = f"""\
FROM {TEST_IMAGE}
COPY {" ".join(STANDIN)} /bin/
EXPOSE 5432
CMD ["postgres-standin"]
"""


@pytest.fixture(scope="module")
def postgres_standin(local_engine: docker.DockerClient) -> Iterator[str]:
    """The stand-in for postgres:16 on the local engine; its tag."""
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, text in {**STANDIN, "Dockerfile": DOCKERFILE}.items():
            entry = tarfile.TarInfo(name)
            data = text.encode()
            entry.size, entry.mode = len(data), 0o755
            tar.addfile(entry, io.BytesIO(data))
    context.seek(0)
    tag = f"dockfleet-test-postgres-standin:{secrets.token_hex(4)}"
    local_engine.images.build(
        fileobj=context, custom_context=True, tag=tag, labels={TEST_LABEL: "true"}, rm=True
    )
    yield tag
    local_engine.images.remove(tag, force=True)


def local_fleet(cli: Cli, prefix: str) -> str:  # noqa: F811
    """`dockfleet up -d` of one host (no Flower, no beat) for a pipeline to use; its name."""
    host = random_name(prefix)
    started = cli.run("up", "-d", "--host-name", host, "--no-flower", "--no-beat")
    assert started.returncode == 0, started.stderr
    return host


def test_the_gitlab_example_pipeline_passes_with_its_secret_masked(
    cli: Cli,  # noqa: F811
    repo: Path,  # noqa: F811
    postgres_standin: str,
    local_engine: docker.DockerClient,
) -> None:
    # Given a fleet on this machine and the doc's pipeline in a repository
    host = local_fleet(cli, "tu")
    write_doc_pipeline(
        repo, "gitlab.md", (".gitlab-ci.yml", "ci/job.yml"), (DOC_IMAGE, postgres_standin), {}
    )
    password = "pw-" + secrets.token_urlsafe(16)

    # When GitLab (gitlab-ci-local) runs it with the two masked CI/CD variables
    pipeline = gitlab_ci_local(
        repo, DB_PASSWORD=password, DOCKFLEET_REDIS_URL=cli.record().redis_url
    )
    out = pipeline.stdout

    # Then the pipeline passes: the job reached its database with the password they share
    assert pipeline.returncode == 0, out
    assert passed(out, "integration"), out
    assert printed(out, "integration", "testing as ci, password ***")
    assert printed(out, "integration", "(1 row)")
    # And the advisory job shows its own exit code as a warning, not a failure
    assert re.search(r"^advisory +finished in .* WARN 3 *$", out, re.MULTILINE), out
    assert printed(out, "advisory", "2 slow queries")
    # And the secret is nowhere in GitLab's log (gitlab-ci-local itself masks nothing)
    assert password not in out

    # And each job cleaned up after itself on the fleet's host
    ours = f"dockfleet.host={host}"
    wait_for(
        lambda: not local_engine.containers.list(all=True, filters={"label": ours}),
        15,
        "the jobs' containers to go",
    )
    stopped = cli.run("down", "--purge")
    assert stopped.returncode == 0, stopped.stderr
    assert local_engine.networks.list(filters={"label": ours}) == []


SOURCES = {"src/a.txt": "line a\n", "src/b.txt": "line b\n"}


def test_a_build_stage_hands_its_output_and_its_cache_to_the_next_stage(
    cli: Cli,  # noqa: F811
    repo: Path,  # noqa: F811
    local_engine: docker.DockerClient,
) -> None:
    # Given a fleet on this machine and the doc's pipeline in a repository
    host = local_fleet(cli, "ta")
    write_doc_pipeline(
        repo, "gitlab-artifacts.md", (".gitlab-ci.yml",), ("alpine:3.20", TEST_IMAGE), SOURCES
    )
    # A project of its own (gitlab-ci-local reads CI_PROJECT_NAME from the git remote)
    project = random_name("proj")
    remote = f"git@gitlab.example.com:ci/{project}.git"
    subprocess.run(["git", "-C", str(repo), "remote", "add", "origin", remote], check=True)
    cache_key = f"{project}-deps"

    try:
        # When GitLab (gitlab-ci-local) runs it, each job in its own copy of the checkout
        pipeline = gitlab_ci_local(
            repo, "--shell-isolation", DOCKFLEET_REDIS_URL=cli.record().redis_url
        )
        out = pipeline.stdout

        # Then both stages pass
        assert pipeline.returncode == 0, out
        assert passed(out, "build") and passed(out, "check"), out
        # And the build ran on the fleet, from the sources sent in, with a cold cache
        assert printed(out, "build", "deps: downloading"), out
        assert printed(out, "build", "built out/app"), out
        # And its out/ came back to the runner: `check` read it in the runner's shell...
        assert printed(out, "check", "toolchain 1.0"), out
        # ...and sent it back in, next to the cache the build left on the host
        assert printed(out, "check", "deps: cached"), out
        assert printed(out, "check", "out/app has 3 lines"), out
        # And the cache is the fleet's volume for that key
        caches = local_engine.volumes.list(filters={"label": f"dockfleet.cache={cache_key}"})
        assert len(caches) == 1
    finally:
        removed = cli.run("cache", "rm", cache_key, "--host", host)
        stopped = cli.run("down", "--purge")
    assert removed.returncode == 0, removed.stderr
    assert stopped.returncode == 0, stopped.stderr
    assert local_engine.volumes.list(filters={"label": f"dockfleet.cache={cache_key}"}) == []
