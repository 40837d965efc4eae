"""Probes a job's service from inside the job network, as the job itself will reach it.

The worker process may not reach the job network at all (a worker in a container
with only the Docker socket, or one that drives a remote engine over TCP+TLS), so
a service's ports are tried by a tiny probe container, as gitlab-runner's helper
does: it connects to the service's alias on each exposed TCP port, retrying until
all accept, then exits. The probe shares the service's network namespace instead
of joining the job network: the alias still resolves through the job network's
DNS to the service's address there (so a service that listens on loopback only
is not ready, as the job could not reach it), and the probe starts in ~0.2 s
instead of the ~0.5 s of a container that gets its own endpoint on the network.

The probe image is ``DOCKFLEET_PROBE_IMAGE`` (any image with busybox's ``sh``,
``nc``, ``sleep`` and ``date``), or by default one the worker makes on the host from
its own static busybox binary (Debian's ``busybox-static``): imported once per
host and content, so it needs no registry. It runs as nobody, read-only, with no
capabilities, and removes itself when done (``AutoRemove``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import shutil
import tarfile
import threading
from functools import cache

from dockfleet import labels as fleet_labels
from dockfleet.errors import (
    Conflict,
    ContainerNotFound,
    FleetError,
    HostUnavailable,
    ServiceNotReady,
)
from dockfleet.models import ContainerConfig
from worker.engine import containers as engine
from worker.engine import images
from worker.engine.convert import create_arguments
from worker.jobs import job_image
from worker.runtime import Runtime

log = logging.getLogger(__name__)
PROBE_REPOSITORY = "dockfleet-probe"
PROBE_USER = "65534:65534"
#: the busybox applets the probe script uses
APPLETS = ("sh", "nc", "sleep", "date")
BUSYBOX_PATHS = ("/bin/busybox", "/usr/bin/busybox")
#: seconds between two tries of a port; the probe gives up this long after its deadline
RETRY_SECONDS = "0.1"
GRACE_SECONDS = 5
#: connect to $host on every port given, retrying each until it accepts or time runs out
SCRIPT = (
    "host=$1; end=$(( $(date +%s) + $2 )); shift 2; for port; do "
    'until nc -w 1 "$host" "$port" -e true 2>/dev/null; do '
    '[ "$(date +%s)" -lt "$end" ] || exit 1; sleep ' + RETRY_SECONDS + "; done; done"
)
_import_lock = threading.Lock()


class NoProbeImage(Exception):
    """Neither a configured probe image nor a busybox to make one from."""


def start(
    rt: Runtime, job_id: str, alias: str, ports: list[int], service_id: str, timeout: float
) -> str:
    """Start the probe of one service; it exits (and is removed) once every port accepts."""
    try:
        image = probe_image(rt)
    except NoProbeImage as exc:
        raise ServiceNotReady(alias, str(exc)) from None
    name = f"dfj-{job_id}--probe-{alias}"  # "--": no service alias starts with "-"
    config = ContainerConfig(
        image=image,
        name=name,
        cmd=["sh", "-c", SCRIPT, "probe", alias, str(int(timeout) + GRACE_SECONDS)]
        + [str(p) for p in ports],
        network=f"container:{service_id}",
        read_only=True,
        pids_limit=16,
        memory_limit=32 * 1024 * 1024,
    )
    labels = fleet_labels.ownership(rt.host, job=job_id)
    arguments = create_arguments(config, rt.settings.policy, labels, user=PROBE_USER)
    arguments["host_config"]["AutoRemove"] = True
    container_id = None
    try:
        container_id = _create(rt, arguments)
        engine.start(rt.docker, container_id)
    except HostUnavailable:
        raise  # not the probe's failure: the engine's
    except FleetError as exc:  # the engine refused it
        if container_id is not None:  # made, never started: AutoRemove will not take it
            with contextlib.suppress(FleetError):
                stop(rt, container_id)
        raise ServiceNotReady(alias, f"its probe could not start: {exc}", "") from exc
    return container_id


def finished(rt: Runtime, container_id: str) -> bool | None:
    """True once the probe saw every port accept; None while it runs; False if it gave up."""
    try:
        state = engine.inspect_state(rt.docker, container_id)
    except ContainerNotFound:
        return True  # removed by the engine on exit; it exits early only on success
    if state.running or state.status == "created":
        return None
    return state.exit_code == 0


def stop(rt: Runtime, container_id: str) -> None:
    """Remove a probe that is still running (its service failed or timed out)."""
    engine.remove(rt.docker, container_id, force=True, volumes=False)


def _create(rt: Runtime, arguments: dict[str, object]) -> str:
    try:
        return engine.create(rt.docker, dict(arguments))
    except Conflict:
        pass
    # A probe left by an earlier run of this job (its worker died): replace it.
    engine.remove(rt.docker, str(arguments["name"]), force=True, volumes=False)
    return engine.create(rt.docker, dict(arguments))


def probe_image(rt: Runtime) -> str:
    """The probe image on this host: the configured one, else the worker's busybox."""
    if rt.settings.probe_image:
        job_image.ensure(rt, rt.settings.probe_image, "if-not-present")
        return rt.settings.probe_image
    digest, data = _busybox()
    reference = f"{PROBE_REPOSITORY}:{digest[:16]}"
    with _import_lock:
        present = images.inspect_if_present(rt.docker, reference, rt.host)
        if present is not None:
            return reference
        labels = fleet_labels.ownership(rt.host)
        changes = ["ENV PATH=/bin", *(f"LABEL {k}={v}" for k, v in labels.items())]
        images.import_tar(rt.docker, _image_tar(data), reference, changes)
        log.info("imported the service probe image %s on host %s", reference, rt.host)
    return reference


@cache
def _busybox() -> tuple[str, bytes]:
    """(sha256, content) of this machine's static busybox."""
    found = shutil.which("busybox") or next((p for p in BUSYBOX_PATHS if os.path.exists(p)), None)
    if found is None:
        raise NoProbeImage(
            "no probe for a service without a HEALTHCHECK: install busybox-static on the "
            "worker's machine, or set DOCKFLEET_PROBE_IMAGE to an image with busybox"
        )
    with open(found, "rb") as handle:
        data = handle.read()
    return hashlib.sha256(data).hexdigest(), data


def _image_tar(busybox: bytes) -> bytes:
    """A root file system of busybox and the applets the probe runs."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for folder in ("bin", "tmp"):
            entry = tarfile.TarInfo(folder)
            entry.type, entry.mode = tarfile.DIRTYPE, 0o1777 if folder == "tmp" else 0o755
            archive.addfile(entry)
        binary = tarfile.TarInfo("bin/busybox")
        binary.size, binary.mode = len(busybox), 0o755
        archive.addfile(binary, io.BytesIO(busybox))
        for applet in APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            archive.addfile(link)
    return buffer.getvalue()
