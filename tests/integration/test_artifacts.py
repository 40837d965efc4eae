"""Artifacts through real workers and Redis: copied out of the stopped container, fetched
later from Redis alone, links kept as links, expired by beat's cleanup."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import docker
import pytest

from dockfleet import Fleet, JobSpec
from dockfleet.errors import TransferFailed
from dockfleet.models import ArtifactsReport
from dockfleet.store import artifacts as artifact_records
from dockfleet.store import maintenance_reports
from tests.conftest import TEST_IMAGE
from tests.integration.test_workspaces import created_on
from tests.support.services import wait_for
from tests.support.worker_hosts import WorkerHost, bare_host

DOCKFLEET = str(Path(sys.executable).with_name("dockfleet"))
MIB = 1024 * 1024

art_host = bare_host("ta", DOCKFLEET_JOB_LEASE_SECONDS="3")

#: a job's outputs below its working directory /tmp (its user may write there)
OUTPUTS = (
    "mkdir -p out/sub logs && echo '<r/>' > out/report.xml && echo '<s/>' > out/sub/b.xml"
    " && printf 'bin' > out/tool && chmod 750 out/tool && ln -s /etc out/to-etc"
    " && ln -s report.xml out/to-report && echo log > logs/run.log && echo x > other.txt"
)


def job(host: str, script: str, artifacts: list[str], **fields: object) -> JobSpec:
    container = {"image": TEST_IMAGE, "cmd": ["sh", "-c", script], "working_dir": "/tmp"}
    return JobSpec.model_validate(
        {"container": container, "host": host, "artifacts": artifacts, **fields}
    )


def start(host: WorkerHost, store: Path, **env: str) -> None:
    host.start_worker(DOCKFLEET_ARTIFACTS_DIR=str(store), **env)


def test_artifacts_come_out_with_globs_modes_and_links_and_a_missing_path_is_a_warning(
    fleet: Fleet, art_host: WorkerHost, tmp_path: Path
) -> None:
    # Given a worker and a job that writes reports, a binary and links, asking for a
    # folder, a glob across folders and a path it never writes
    start(art_host, tmp_path / "store")
    spec = job(art_host.name, OUTPUTS, ["out/", "**/*.log", "nothing-here.txt"])

    # When it runs, and its artifacts are fetched later into a folder
    handle = fleet.run_job(spec)
    result = handle.wait(60)
    assert result.status == "succeeded" and result.artifacts, (result.error, result.artifacts)
    target = tmp_path / "got"
    report = fleet.download_artifacts(handle.id, target)

    # Then the job passed, and its result lists the files and the missing path
    assert result.artifacts == report
    listed = {f.path: f.size for f in report.files}
    assert listed["out/report.xml"] == 5 and listed["out/sub/b.xml"] == 5
    assert "logs/run.log" in listed and "other.txt" not in listed
    assert report.missing == ["nothing-here.txt"]
    # And they arrived with their paths and modes, links as links (never followed)
    assert (target / "out/report.xml").read_text() == "<r/>\n"
    assert (target / "out/sub/b.xml").read_text() == "<s/>\n"
    assert (target / "out/tool").stat().st_mode & 0o777 == 0o750
    assert os.readlink(target / "out/to-etc") == "/etc"
    assert os.readlink(target / "out/to-report") == "report.xml"
    assert (target / "logs/run.log").read_text() == "log\n"
    assert sorted(p.name for p in target.iterdir()) == ["logs", "out"]
    # And the worker's folder holds one whole tar for the job, no part
    assert [p.name for p in (tmp_path / "store").iterdir()] == [f"{handle.id}.tar"]


def test_artifacts_are_kept_by_the_job_status_as_artifacts_when_says(
    fleet: Fleet, art_host: WorkerHost, tmp_path: Path
) -> None:
    # Given a worker, and three failing jobs: on_failure, always and on_success
    start(art_host, tmp_path / "store")
    failing = "mkdir -p out && echo fail > out/why.txt && exit 3"
    handles = {
        when: fleet.run_job(job(art_host.name, failing, ["out"], artifacts_when=when))
        for when in ("on_failure", "always", "on_success")
    }

    # And a job that fails before its container is made (no such image), keeping them always
    absent = job(art_host.name, "true", ["out"], artifacts_when="always", pull="never")
    absent = absent.model_copy(update={"container": absent.container.model_copy(
        update={"image": "dockfleet-test-absent", "tag": "none"})})  # fmt: skip
    never = fleet.run_job(absent)

    # When they end
    results = {when: handle.wait(60) for when, handle in handles.items()}

    # Then each failed, and only the ones that keep artifacts of a failure have them
    assert {r.status for r in results.values()} == {"failed"}
    for when in ("on_failure", "always"):
        stored = results[when].artifacts
        assert stored is not None and [f.path for f in stored.files] == ["out", "out/why.txt"]
    assert results["on_success"].artifacts is None
    # And the one without a container says so, its paths missing
    ended = never.wait(60)
    assert ended.status == "error" and ended.artifacts is not None
    assert ended.artifacts.missing == ["out"] and "container" in str(ended.artifacts.error)


def test_a_path_out_of_the_working_directory_is_refused_at_submit_before_anything_is_made(
    art_host: WorkerHost, redis_url: str, local_engine: docker.DockerClient, tmp_path: Path
) -> None:
    # Given a pipeline step asking for a path that leaves the working directory
    since_ns = time.time_ns()
    env = {**os.environ, "DOCKFLEET_REDIS_URL": redis_url}
    argv = [DOCKFLEET, "run", "--host", art_host.name, "-w", "/tmp", "--artifact"]

    # When it runs, with '..' and with an absolute path outside the working directory
    steps = [
        subprocess.run(argv + [path, TEST_IMAGE], capture_output=True, text=True, env=env)
        for path in ("../../etc", "/etc/passwd")
    ]

    # Then both fail as the fleet failing (125), saying why, and no container was made
    assert [s.returncode for s in steps] == [125, 125], [s.stderr for s in steps]
    assert "'../../etc' leaves the working directory" in steps[0].stderr
    assert "'/etc/passwd' is outside the working directory /tmp" in steps[1].stderr
    assert created_on(local_engine, art_host.name, since_ns) == []


def test_an_attached_run_downloads_them_and_dockfleet_artifacts_fetches_them_later(
    art_host: WorkerHost, redis_url: str, tmp_path: Path
) -> None:
    # Given a worker, and a pipeline step that runs a job with artifacts
    start(art_host, tmp_path / "store")
    env = {**os.environ, "DOCKFLEET_REDIS_URL": redis_url}
    here, later = tmp_path / "here", tmp_path / "later"
    argv = [DOCKFLEET, "run", "--host", art_host.name, "-w", "/tmp", "--json"]
    argv += ["--artifact", "out/*.xml", "--artifact", "absent", "--artifacts-dir", str(here)]

    # When it runs attached, and its artifacts are fetched again on "another machine"
    step = subprocess.run(
        argv + [TEST_IMAGE, "--", "sh", "-c", OUTPUTS], capture_output=True, text=True, env=env
    )
    job_id = json.loads(step.stdout)["job_id"]
    fetch = subprocess.run(
        [DOCKFLEET, "artifacts", job_id, "-o", str(later), "--json"],
        capture_output=True,
        text=True,
        env=env,
    )

    # Then the step passed with them in --artifacts-dir, and warned of the missing path
    assert step.returncode == 0, step.stderr
    assert "artifact 'absent' matched nothing" in step.stderr
    assert (here / "out/report.xml").read_text() == "<r/>\n"
    assert not (here / "out/sub").exists()  # '*' stays in its folder
    # And the later fetch got the same, and said what in JSON
    assert fetch.returncode == 0, fetch.stderr
    assert [f["path"] for f in json.loads(fetch.stdout)["files"]] == ["out/report.xml"]
    assert (later / "out/report.xml").read_text() == "<r/>\n"


def test_beat_cleanup_removes_expired_artifacts(
    fleet: Fleet, art_host: WorkerHost, tmp_path: Path
) -> None:
    # Given a worker whose artifacts live 2 seconds, and a job that stored some
    store = tmp_path / "store"
    start(art_host, store, DOCKFLEET_ARTIFACT_TTL="2")
    handle = fleet.run_job(job(art_host.name, OUTPUTS, ["out"]))
    assert handle.wait(60).status == "succeeded"
    assert [p.name for p in store.iterdir()] == [f"{handle.id}.tar"]

    # When they have expired and the host's cleanup runs (as beat runs it)
    time.sleep(3)
    (report,) = fleet.cleanup(host=art_host.name)

    # Then the tar is gone, reported, and a fetch says there is nothing to fetch
    assert [r.id for r in report.of_kind("artifacts")] == [f"{handle.id}.tar"]
    assert list(store.iterdir()) == []
    # counted in the host's totals (the exporter's dockfleet_cleanup_removed_total)
    totals = maintenance_reports.totals(fleet.transport.redis, [art_host.name])
    assert totals[art_host.name].removed["artifacts"] == 1
    try:
        fleet.download_artifacts(handle.id, tmp_path / "late")
    except TransferFailed as exc:
        assert "no stored artifacts" in str(exc)
    else:
        raise AssertionError("expired artifacts were fetched")


def test_a_worker_killed_mid_copy_is_adopted_and_the_artifacts_are_whole_and_reported_once(
    fleet: Fleet, art_host: WorkerHost, tmp_path: Path
) -> None:
    # Given a worker copying a job's 64 MiB artifact out
    store = tmp_path / "store"
    start(art_host, store)
    first = art_host.host.workers[0]
    script = "head -c 67108864 /dev/urandom > big.bin && md5sum big.bin | cut -d' ' -f1"
    handle = fleet.run_job(job(art_host.name, script, ["big.bin"]))
    # and a client following the copy as it is written (as an attached run does); its
    # transfer outlives a dead end by 3 s
    settings = fleet.transport.settings.model_copy(update={"transfer_idle_seconds": 3})
    follower = Fleet(settings)
    early: dict[str, object] = {}

    def follow() -> None:
        try:
            early["report"] = follower.download_artifacts(handle.id, tmp_path / "early", wait=True)
        except Exception as exc:
            early["error"] = exc

    following = threading.Thread(target=follow)
    following.start()
    wait_for(lambda: store.is_dir() and any(store.glob("*.part")), 60, "the copy to start")

    # When that worker is killed with SIGKILL mid-copy (stopped first: it is a fast copy)
    art_host.pause(first)
    assert not (store / f"{handle.id}.tar").exists()  # caught mid-copy
    dead_part = next(store.glob("*.part"))
    first.kill()  # SIGKILL ends a stopped process too
    art_host.paused.clear()
    start(art_host, store)
    adopter = art_host.host.workers[1]

    # Then the job is adopted (its outcome was recorded: the adopter tears it down) and
    # reported once, with its artifact whole
    result = handle.wait(60)
    assert result.status == "succeeded", result.error
    assert f"adopting job {handle.id}" in adopter.log_lines(handle.id)
    assert result.artifacts is not None and result.artifacts.missing == []
    assert [(f.path, f.size) for f in result.artifacts.files] == [("big.bin", 64 * MIB)]
    assert art_host.ends(handle.id) == 1
    # And the dead copy's part is never what is listed or fetched
    report = fleet.download_artifacts(handle.id, tmp_path / "got")
    assert report == result.artifacts
    digest = hashlib.md5((tmp_path / "got/big.bin").read_bytes()).hexdigest()
    assert [line.line for line in handle.logs(follow=False)] == [digest]
    assert dead_part.exists() and (store / f"{handle.id}.tar").exists()
    # And the client that followed the dead copy fell back to the stored tar: whole
    following.join(60)
    follower.close()
    assert early.get("report") == result.artifacts, early.get("error")
    assert hashlib.md5((tmp_path / "early/big.bin").read_bytes()).hexdigest() == digest


def test_a_fetch_says_clearly_when_the_holder_is_gone_or_is_another_machine(
    fleet: Fleet, art_host: WorkerHost, tmp_path: Path
) -> None:
    # Given records of artifacts held on another machine of a live host, and on a host
    # with no live worker
    start(art_host, tmp_path / "store")
    redis = fleet.transport.redis
    for job_id, host in (("elsewhere1", art_host.name), ("gone1", "ta-no-such-host")):
        held = ArtifactsReport(host=host, machine="other-machine", size=10240)
        artifact_records.record(redis, job_id, "/nowhere/x.tar", held, 60)

    # When each is fetched, then each fetch fails saying where they are and why not
    with pytest.raises(TransferFailed, match="on worker machine other-machine; this worker"):
        fleet.download_artifacts("elsewhere1", tmp_path / "a")
    with pytest.raises(TransferFailed, match="no worker of that host is live"):
        fleet.download_artifacts("gone1", tmp_path / "b")
