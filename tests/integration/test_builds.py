"""Image builds through the fleet: folder, tar, URL; tags, args, cache, live log, failure."""

from __future__ import annotations

import http.server
import os
import secrets
import threading
import time
from pathlib import Path

import docker
import pytest

from dockfleet import BuildFailed, BuildOptions, Fleet, InvalidSpec, PolicyViolation, Settings, keys
from dockfleet.client.uploads import upload
from tests.conftest import TEST_IMAGE, Host
from tests.support.planting import tar_of

pytestmark = pytest.mark.usefixtures("clean_engine")


def tag(name: str) -> str:
    return f"dft-build/{name}-{secrets.token_hex(3)}:v1"


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def run(engine: docker.DockerClient, image: str, command: str) -> str:
    output: bytes = engine.containers.run(image, ["sh", "-c", command], remove=True)
    return output.decode().strip()


def uploads_left(fleet: Fleet) -> list[str]:
    return list(fleet.transport.redis.scan_iter(match=keys.build_upload("*")))


GREETING_DOCKERFILE = f"""FROM {TEST_IMAGE}
ARG GREETING=none
LABEL greeting=$GREETING
COPY note.txt /note.txt
RUN echo "greeting is $GREETING" && echo "$GREETING" > /greeting
"""


def test_build_from_an_uploaded_folder_with_two_tags_and_a_build_arg(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient, tmp_path: Path
) -> None:
    # Given a folder on the client with a Dockerfile that uses a build arg
    context = write(tmp_path / "ctx", {"Dockerfile": GREETING_DOCKERFILE, "note.txt": "hi\n"})
    (context / "secret.key").write_text("not for the image")
    (context / ".dockerignore").write_text("*.key\n")
    greeting = "hello-" + secrets.token_hex(4)
    first, second = tag("app"), tag("app")
    lines: list[str] = []

    # When it is built through the fleet with two tags
    result = fleet.build_image(
        context,
        BuildOptions(tags=[first, second], build_args={"GREETING": greeting}),
        host=host_a.name,
        on_log=lines.append,
    )

    # Then one image has both tags, the arg is in its label and its file system
    image = local_engine.images.get(result.id)
    assert set(image.tags) == {first, second} and result.tags == [first, second]
    assert image.labels["greeting"] == greeting
    assert run(local_engine, first, "cat /greeting; cat /note.txt") == f"{greeting}\nhi"
    assert run(local_engine, first, "ls /secret.key 2>/dev/null || echo absent") == "absent"
    # And it carries the fleet's ownership labels
    assert image.labels["dockfleet.managed"] == "true"
    assert image.labels["dockfleet.host"] == host_a.name
    # And the log came line by line, and the upload is gone from Redis
    assert f"greeting is {greeting}" in lines
    assert all("\n" not in line for line in lines)
    assert result.log_lines == len(lines) and result.host == host_a.name
    assert uploads_left(fleet) == []


def test_build_from_an_uploaded_gzipped_tar(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    data = tar_of({"Dockerfile": GREETING_DOCKERFILE, "note.txt": "from tar\n"}, gzip=True)
    name = tag("tar")
    result = fleet.build_image(
        data, BuildOptions(tags=[name], build_args={"GREETING": "tarred"}), host=host_a.name
    )
    assert run(local_engine, name, "cat /greeting /note.txt") == "tarred\nfrom tar"
    assert result.id == local_engine.images.get(name).id
    assert uploads_left(fleet) == []


def test_build_from_a_folder_on_the_worker_needs_an_allowed_path(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient, bind_root: str, tmp_path: Path
) -> None:
    # Given a folder under the policy's allowed host paths, and one outside them
    inside = write(Path(bind_root) / f"ctx-{secrets.token_hex(3)}", {
        "Dockerfile": f"FROM {TEST_IMAGE}\nCOPY note.txt /note.txt\n",
        "note.txt": "on the worker\n",
    })  # fmt: skip
    outside = write(tmp_path / "outside", {"Dockerfile": f"FROM {TEST_IMAGE}\n"})
    name = tag("path")

    # When each is built from the worker's file system
    fleet.build_image(str(inside), BuildOptions(tags=[name]), host=host_a.name,
                      upload_context=False)  # fmt: skip
    with pytest.raises(PolicyViolation) as refused:
        fleet.build_image(str(outside), host=host_a.name, upload_context=False)

    # Then the allowed one is built, the other refused by the host-path rule
    assert run(local_engine, name, "cat /note.txt") == "on the worker"
    assert refused.value.rule == "host-path"


def test_build_from_a_url_the_engine_fetches(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient, tmp_path: Path
) -> None:
    # Given a context tar served on a loopback port (the engine runs on this machine)
    (tmp_path / "context.tar").write_bytes(
        tar_of({"Dockerfile": f"FROM {TEST_IMAGE}\nRUN echo fetched > /origin\n"})
    )
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(  # noqa: E731
        *a, directory=str(tmp_path), **k
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        name = tag("url")
        url = f"http://127.0.0.1:{server.server_address[1]}/context.tar"
        fleet.build_image(url, BuildOptions(tags=[name]), host=host_a.name)
    finally:
        server.shutdown()
        server.server_close()
    assert run(local_engine, name, "cat /origin") == "fetched"


def test_no_cache_makes_a_run_step_execute_again(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    # Given a RUN step whose output differs each time it really runs
    data = tar_of(
        {"Dockerfile": f"FROM {TEST_IMAGE}\nRUN cat /proc/sys/kernel/random/uuid > /id\n"}
    )
    name = tag("cache")
    first = fleet.build_image(data, BuildOptions(tags=[name]), host=host_a.name)
    # When it is built again with the cache, then the step is reused
    cached_log: list[str] = []
    cached = fleet.build_image(data, BuildOptions(tags=[name]), host=host_a.name,
                               on_log=cached_log.append)  # fmt: skip
    made_first = run(local_engine, first.id, "cat /id")
    assert run(local_engine, cached.id, "cat /id") == made_first
    assert any("Using cache" in line for line in cached_log)
    # And with no_cache it runs again, making a different image
    fresh_log: list[str] = []
    fresh = fleet.build_image(data, BuildOptions(tags=[name], no_cache=True), host=host_a.name,
                              on_log=fresh_log.append)  # fmt: skip
    assert not any("Using cache" in line for line in fresh_log)
    assert any("Running in" in line for line in fresh_log)
    assert run(local_engine, fresh.id, "cat /id") != made_first


def test_failing_run_step_raises_build_failed_with_its_log(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    dockerfile = f"FROM {TEST_IMAGE}\nRUN echo about-to-fail-{host_a.name} && exit 3\n"
    lines: list[str] = []
    with pytest.raises(BuildFailed) as caught:
        fleet.build_image(tar_of({"Dockerfile": dockerfile}), BuildOptions(tags=[tag("fail")]),
                          host=host_a.name, on_log=lines.append)  # fmt: skip
    error = caught.value
    assert "returned a non-zero code: 3" in str(error) and error.host == host_a.name
    assert f"about-to-fail-{host_a.name}" in error.log_tail
    assert f"about-to-fail-{host_a.name}" in lines  # streamed before the error came
    assert not local_engine.containers.list(all=True, filters={"status": "exited"})


def test_build_log_arrives_while_the_build_runs(fleet: Fleet, host_a: Host) -> None:
    # Given a step that prints, waits two seconds, and prints again
    dockerfile = f"FROM {TEST_IMAGE}\nRUN echo early-line && sleep 2 && echo late-line\n"
    arrivals: dict[str, float] = {}

    def on_log(line: str) -> None:
        arrivals.setdefault(line, time.monotonic())

    # When it is built with a log callback
    fleet.build_image(tar_of({"Dockerfile": dockerfile}), BuildOptions(no_cache=True),
                      host=host_a.name, on_log=on_log)  # fmt: skip
    done = time.monotonic()

    # Then the first line came well before the end: streamed, not delivered at the end
    assert done - arrivals["early-line"] > 1.5
    assert done - arrivals["late-line"] < 1.5


def test_upload_over_the_size_cap_is_refused_before_anything_is_stored(
    client_settings: Settings, host_a: Host, tmp_path: Path
) -> None:
    settings = client_settings.model_copy(
        update={"images": client_settings.images.model_copy(update={"upload_max_bytes": 4096})}
    )
    context = write(tmp_path / "big", {"Dockerfile": f"FROM {TEST_IMAGE}\n"})
    (context / "blob").write_bytes(os.urandom(16384))
    with Fleet(settings) as small:
        with pytest.raises(InvalidSpec, match="over 4096 bytes"):
            small.build_image(context, host=host_a.name)
        with pytest.raises(InvalidSpec, match="over 4096 bytes"):
            small.build_image(os.urandom(5000), host=host_a.name)
        assert uploads_left(small) == []


def test_an_upload_waits_in_redis_with_a_ttl(fleet: Fleet) -> None:
    upload_id = upload(fleet.transport, b"x" * (3 * 1024 * 1024 + 5))
    key = keys.build_upload(upload_id)
    try:
        assert fleet.transport.redis.strlen(key) == 3 * 1024 * 1024 + 5
        assert 0 < fleet.transport.redis.ttl(key) <= fleet.settings.images.upload_ttl
    finally:
        fleet.transport.redis.delete(key)
