"""Registry pulls and pushes through the fleet: credentials, errors, secrecy, single-flight."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

import docker
import pytest

from dockfleet import (
    Fleet,
    ImageNotFound,
    RegistryAuthError,
    RegistryCredentials,
    Settings,
    TransferProgress,
)
from tests.conftest import LOCAL_DOCKER, TEST_IMAGE, Host, random_name, start_host, worker_env
from tests.integration.conftest import REGISTRY_USER
from tests.support.services import RegistryServer

pytestmark = pytest.mark.usefixtures("clean_engine")


def creds(registry: RegistryServer, password: str | None = None) -> RegistryCredentials:
    return RegistryCredentials(username=REGISTRY_USER, password=password or registry.password)


def fresh_name(registry: RegistryServer) -> str:
    return f"{registry.address}/dft/busybox-{secrets.token_hex(3)}:v1"


@pytest.fixture(scope="module")
def auth_host(
    redis_url: str, local_engine: docker.DockerClient, policy: Any, registry: RegistryServer
) -> Iterator[Host]:
    """The local engine served by two worker processes of one thread each, whose settings
    hold the registry's credentials (DOCKFLEET_REGISTRY_AUTH)."""
    auth = {registry.address: {"username": REGISTRY_USER, "password": registry.password}}
    env = worker_env(
        redis_url,
        LOCAL_DOCKER,
        policy,
        DOCKFLEET_WORKER_CONCURRENCY="1",
        DOCKFLEET_REGISTRY_AUTH=json.dumps(auth),
    )
    host = start_host(random_name("ti"), LOCAL_DOCKER, local_engine, env, 2, redis_url)
    yield host
    for worker in host.workers:
        worker.stop()


def unique_image(engine: docker.DockerClient, reference: str, megabytes: int = 0) -> str:
    """Build busybox:local plus a layer of its own (so a pull must fetch it); its id."""
    steps = f"FROM {TEST_IMAGE}\nRUN echo {secrets.token_hex(8)} > /token\n"
    if megabytes:
        steps += f"RUN dd if=/dev/urandom of=/blob bs=1M count={megabytes}\n"
    image, _ = engine.images.build(
        fileobj=_dockerfile_tar(steps), custom_context=True, tag=reference, rm=True
    )
    return str(image.id)


def push_new(fleet: Fleet, host: Host, registry: RegistryServer, megabytes: int = 0) -> str:
    """A new repository in the registry holding an image of its own, removed locally after."""
    reference = fresh_name(registry)
    unique_image(host.engine, reference, megabytes)
    fleet.push_image(reference, creds(registry), host=host.name)
    fleet.remove_image(reference, host=host.name)
    return reference


def test_push_then_pull_back_through_the_fleet_with_credentials(
    fleet: Fleet, host_a: Host, registry: RegistryServer, local_engine: docker.DockerClient
) -> None:
    # Given an image of its own (busybox:local plus a layer) tagged under a registry name
    source = unique_image(local_engine, f"dft-source-{secrets.token_hex(3)}:v1")
    reference = fresh_name(registry)
    tagged = fleet.tag_image(source, reference, host=host_a.name)
    assert reference in tagged.tags and tagged.host == host_a.name
    local_engine.images.remove(tagged.tags[0] if tagged.tags[0] != reference else tagged.tags[1])

    # When it is pushed with credentials, removed locally, and pulled back through the fleet
    pushed: list[TransferProgress] = []
    result = fleet.push_image(
        reference, creds(registry), host=host_a.name, on_progress=pushed.append
    )
    assert result.digest.startswith("sha256:") and result.host == host_a.name
    assert fleet.remove_image(reference, host=host_a.name).removed is True
    assert not local_engine.images.list(name=reference.rsplit(":", 1)[0])
    pulled: list[TransferProgress] = []
    info = fleet.pull_image(reference, creds(registry), host=host_a.name, on_progress=pulled.append)

    # Then the image is back, with progress reported layer by layer on the way
    assert reference in info.tags and info.host == host_a.name
    assert local_engine.images.get(reference).id == info.id
    assert pushed and pushed[-1].action == "push"
    assert pulled and pulled[-1].layers_total >= 1
    assert pulled[-1].layers_done == pulled[-1].layers_total
    assert any(p.layers_done < p.layers_total for p in pulled)


def test_wrong_password_is_a_registry_auth_error_for_pull_and_push(
    fleet: Fleet, host_a: Host, registry: RegistryServer
) -> None:
    # Given an image in the registry
    reference = push_new(fleet, host_a, registry)
    wrong = creds(registry, "not-the-password")

    # When it is pulled with a wrong password, then the error says authentication
    with pytest.raises(RegistryAuthError) as caught:
        fleet.pull_image(reference, wrong, host=host_a.name)
    assert caught.value.registry == registry.address
    assert caught.value.host == host_a.name
    assert "not-the-password" not in str(caught.value)

    # And a push with it (of an image there) is refused the same way
    fleet.tag_image(TEST_IMAGE, reference, host=host_a.name)
    with pytest.raises(RegistryAuthError) as pushed:
        fleet.push_image(reference, wrong, host=host_a.name)
    assert pushed.value.registry == registry.address


def test_pull_without_credentials_from_a_private_registry_is_an_auth_error(
    fleet: Fleet, host_a: Host, registry: RegistryServer
) -> None:
    reference = push_new(fleet, host_a, registry)
    with pytest.raises(RegistryAuthError, match="refused authentication"):
        fleet.pull_image(reference, host=host_a.name)


def test_unknown_tag_is_image_not_found(
    fleet: Fleet, host_a: Host, registry: RegistryServer
) -> None:
    reference = push_new(fleet, host_a, registry)
    missing = reference.rsplit(":", 1)[0] + ":no-such-tag"
    with pytest.raises(ImageNotFound) as caught:
        fleet.pull_image(missing, creds(registry), host=host_a.name)
    assert caught.value.ref == missing and caught.value.host == host_a.name


def test_worker_uses_the_settings_credentials_when_the_call_has_none(
    fleet: Fleet, host_a: Host, auth_host: Host, registry: RegistryServer
) -> None:
    # Given an image in the registry and a host whose settings hold the credentials
    reference = push_new(fleet, host_a, registry)
    # When it is pulled there without credentials, then it works
    info = fleet.pull_image(reference, host=auth_host.name)
    assert reference in info.tags and info.host == auth_host.name


def test_two_concurrent_pulls_of_one_image_pull_once(
    fleet: Fleet,
    client_settings: Settings,
    host_a: Host,
    auth_host: Host,
    registry: RegistryServer,
    local_engine: docker.DockerClient,
) -> None:
    # Given an image of ~24 MB in the registry (so one pull takes a while), not on the host
    reference = fresh_name(registry)
    image_id = unique_image(local_engine, reference, megabytes=24)
    fleet.push_image(reference, creds(registry), host=host_a.name)
    fleet.remove_image(reference, host=host_a.name)
    repository = reference.rsplit(":", 1)[0].split("/", 1)[1]
    heads_before = registry.requests("HEAD", f"/v2/{repository}/manifests/")

    # When two clients pull it on one host at once, landing in two worker processes
    barrier = threading.Barrier(2)
    seen: dict[int, list[TransferProgress]] = {0: [], 1: []}
    results: dict[int, Any] = {}
    since = int(time.time()) - 1

    def pull(index: int) -> None:
        with Fleet(client_settings) as client:
            barrier.wait()
            try:
                results[index] = client.pull_image(
                    reference, host=auth_host.name, on_progress=seen[index].append
                )
            except Exception as exc:  # reported below
                results[index] = exc

    threads = [threading.Thread(target=pull, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    # Then both get the image, the engine pulled it once, and one of them waited
    assert all(not isinstance(r, Exception) for r in results.values()), results
    assert results[0].id == results[1].id == image_id
    pulls = [
        e
        for e in local_engine.events(
            since=since, until=int(time.time()) + 1, decode=True, filters={"type": "image"}
        )
        if e.get("Action") == "pull" and e.get("id") == reference
    ]
    assert len(pulls) == 1, pulls
    assert registry.requests("HEAD", f"/v2/{repository}/manifests/") - heads_before == 1
    assert sorted(any(p.waiting for p in seen[i]) for i in (0, 1)) == [False, True]


def test_credentials_appear_nowhere_in_results_redis_flower_args_or_logs(
    fleet: Fleet, host_a: Host, registry: RegistryServer, redis_url: str
) -> None:
    # Given pulls and pushes with the right and a wrong password, watched at the transport
    reference = push_new(fleet, host_a, registry)
    wrong_password = "wrong-" + secrets.token_hex(6)
    sent: list[tuple[list[Any], str | None]] = []
    original_send = fleet.transport.send

    def spy(name: str, args: Any, queue: str, **kwargs: Any) -> Any:
        sent.append((list(args), kwargs.get("argsrepr")))
        return original_send(name, args, queue, **kwargs)

    fleet.transport.send = spy  # type: ignore[method-assign]
    try:
        info = fleet.pull_image(reference, creds(registry), host=host_a.name)
        with pytest.raises(RegistryAuthError):
            fleet.pull_image(reference, creds(registry, wrong_password), host=host_a.name)
        fleet.push_image(reference, creds(registry), host=host_a.name)
    finally:
        del fleet.transport.send

    secrets_ = (registry.password, wrong_password)
    # Then the message carries the password, but what Flower shows does not
    assert sent and all(argsrepr and "***" in argsrepr for _, argsrepr in sent)
    assert any(registry.password in json.dumps(args) for args, _ in sent)
    for _, argsrepr in sent:
        assert not any(s in (argsrepr or "") for s in secrets_)
    # And neither results nor anything else stored in Redis holds it
    assert not any(s in info.model_dump_json() for s in secrets_)
    dump = _redis_dump(fleet)
    assert dump and not any(s in dump for s in secrets_)
    # And no worker log does either
    time.sleep(0.5)
    for worker in host_a.workers:
        text = worker.log_path.read_text(errors="replace")
        assert "dockfleet.images.pull" in text
        assert not any(s in text for s in secrets_)


def _redis_dump(fleet: Fleet) -> str:
    client = fleet.transport.redis
    parts = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if kind == "string":
            try:
                parts.append(repr(client.get(key)))
            except UnicodeDecodeError:
                parts.append("<binary>")
        elif kind == "hash":
            parts.append(repr(client.hgetall(key)))
        elif kind == "list":
            parts.append(repr(client.lrange(key, 0, -1)))
        elif kind == "set":
            parts.append(repr(client.smembers(key)))
        elif kind == "zset":
            parts.append(repr(client.zrange(key, 0, -1)))
        elif kind == "stream":
            parts.append(repr(client.xrange(key)))
    return "\n".join(parts)


def _dockerfile_tar(dockerfile: str) -> Any:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        data = dockerfile.encode()
        entry = tarfile.TarInfo("Dockerfile")
        entry.size = len(data)
        archive.addfile(entry, io.BytesIO(data))
    buffer.seek(0)
    return buffer
