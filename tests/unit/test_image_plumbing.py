"""Pure parts of images on the worker and client: progress, error mapping, build log, uploads."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import docker.errors
import pytest

from dockfleet.client.uploads import tar_folder
from dockfleet.errors import (
    BuildFailed,
    Conflict,
    EngineBusy,
    ImageNotFound,
    InvalidSpec,
    RegistryAuthError,
)
from worker.engine.errors import translate
from worker.ops.build_ops import _LineSplitter
from worker.ops.transfer import TransferTracker

PULL_EVENTS = [
    {"status": "Pulling from team/app", "id": "v1"},
    {"status": "Pulling fs layer", "id": "aaa"},
    {"status": "Pulling fs layer", "id": "bbb"},
    {"status": "Downloading", "id": "aaa", "progressDetail": {"current": 50, "total": 100}},
    {"status": "Download complete", "id": "aaa"},
    {"status": "Pull complete", "id": "aaa"},
    {"status": "Already exists", "id": "bbb"},
    {"status": "Digest: sha256:" + "c" * 64},
    {"status": "Status: Downloaded newer image for reg:5000/team/app:v1"},
]


def test_pull_progress_counts_layers_done_out_of_known() -> None:
    tracker = TransferTracker("reg:5000/team/app:v1", "h", "pull")
    shown = [p for p in (tracker.update(e) for e in PULL_EVENTS) if p is not None]
    assert [(p.layers_done, p.layers_total) for p in shown][:3] == [(0, 0), (0, 1), (0, 2)]
    assert (shown[-1].layers_done, shown[-1].layers_total) == (2, 2)
    assert shown[-1].bytes_done == shown[-1].bytes_total == 100
    assert any(p.bytes_done == 50 for p in shown)


def test_push_progress_reads_the_digest_from_the_aux_event() -> None:
    tracker = TransferTracker("reg:5000/app:1", "h", "push")
    for event in [
        {"status": "The push refers to repository [reg:5000/app]"},
        {"status": "Preparing", "id": "l1"},
        {"status": "Pushed", "id": "l1"},
        {"status": "Mounted from other/app", "id": "l2"},
        {"progressDetail": {}, "aux": {"Tag": "1", "Digest": "sha256:" + "d" * 64, "Size": 527}},
    ]:
        tracker.update(event)
    assert tracker.digest == "sha256:" + "d" * 64 and tracker.size == 527
    assert tracker.progress().layers_done == 2


def api_error(status: int, explanation: str) -> docker.errors.APIError:
    response = type("R", (), {"status_code": status, "reason": "x", "url": "u"})()
    return docker.errors.APIError("engine", response, explanation)  # type: ignore[arg-type]


def test_registry_refusals_become_auth_errors_naming_the_registry() -> None:
    error = translate(
        api_error(500, 'Head "http://127.0.0.1:5999/v2/a/manifests/v1": no basic auth credentials'),
        "h",
    )
    assert isinstance(error, RegistryAuthError) and error.registry == "127.0.0.1:5999"
    pushed = translate(docker.errors.APIError("unauthorized: authentication required"), "h")
    assert isinstance(pushed, RegistryAuthError) and pushed.registry == ""


def test_docker_hubs_pull_access_denied_stays_image_not_found() -> None:
    text = "pull access denied for nope, repository does not exist or may require 'docker login'"
    assert isinstance(translate(api_error(500, text + ": denied: requested access"), "h"),
                      ImageNotFound)  # fmt: skip


def test_unknown_manifest_is_image_not_found_and_registry_hiccups_are_transient() -> None:
    missing = "manifest for reg:5000/a:nope not found: manifest unknown: manifest unknown"
    assert isinstance(translate(api_error(404, missing), "h"), ImageNotFound)
    busy = translate(
        api_error(500, "received unexpected HTTP status: 503 Service Unavailable"), "h"
    )
    assert isinstance(busy, EngineBusy) and busy.transient


def test_swarm_and_in_use_refusals_are_clear() -> None:
    swarm = translate(
        api_error(503, "This node is not a swarm manager. Use docker swarm init"), "h"
    )
    assert isinstance(swarm, InvalidSpec) and "swarm" in str(swarm) and not swarm.transient
    in_use = translate(api_error(403, "error while removing network: has active endpoints"), "h")
    assert isinstance(in_use, Conflict)


def test_a_build_error_carries_the_tail_of_its_log() -> None:
    log = [{"stream": f"line {i}\n"} for i in range(30)] + [{"error": "boom"}]
    error = translate(docker.errors.BuildError("returned a non-zero code: 3", log), "h")  # type: ignore[arg-type]
    assert isinstance(error, BuildFailed)
    assert error.log_tail == [f"line {i}" for i in range(10, 30)]
    assert str(error) == "build failed on host 'h': returned a non-zero code: 3"


def test_build_output_chunks_become_whole_lines() -> None:
    lines: list[str] = []
    splitter = _LineSplitter(lines.append)
    for chunk in ["Step 1/2 : FROM x\n ---> ab", "c\nRunning in d\r\n", "last without newline"]:
        splitter.feed(chunk)
    splitter.flush()
    assert lines == ["Step 1/2 : FROM x", " ---> abc", "Running in d", "last without newline"]
    assert splitter.count == 4 and splitter.tail[-1] == "last without newline"


def test_uploaded_context_honours_dockerignore_and_the_size_cap(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    (tmp_path / ".dockerignore").write_text("*.key\nbuild/**\n!build/keep.txt\n# comment\n")
    (tmp_path / "app.py").write_text("print()\n")
    (tmp_path / "id.key").write_text("secret\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "out.bin").write_text("x")
    (tmp_path / "build" / "keep.txt").write_text("x")
    names = tarfile.open(fileobj=io.BytesIO(tar_folder(tmp_path, 10**6))).getnames()
    assert {"Dockerfile", ".dockerignore", "app.py", "build/keep.txt"} <= set(names)
    assert "id.key" not in names and "build/out.bin" not in names
    (tmp_path / "big").write_bytes(b"\0" * 50_000)
    with pytest.raises(InvalidSpec, match="over 20000 bytes"):
        tar_folder(tmp_path, 20_000)
