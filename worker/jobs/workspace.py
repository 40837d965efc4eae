"""The provision step that unpacks a job's workspace into its container, before it starts.

The client streams the workspace's tar through Redis (`dockfleet.transfer`) while the
worker makes the job's network, services and container; this step takes the chunks
as they come, checks every member and moves it below the target, owned by the job's
user (`dockfleet.tar_stream.relocated`), and hands the result to the engine as one
streamed upload (`worker.engine.containers.put_archive`). Nothing holds the whole tar:
Redis holds at most the window, the worker a chunk or two.

Exactly once: an earlier run of the job that unpacked it all marked the transfer
delivered, and a rerun (an adoption) starts the container as it is. One that died
mid-way took chunks that are gone from Redis: the rerun cannot finish the upload, so
the job fails with that reason, its container never started. One that died before
taking any chunk leaves the whole transfer to the rerun.
"""

from __future__ import annotations

import posixpath

from dockfleet.errors import ImageNotFound, PolicyViolation, TransferFailed
from dockfleet.models import ContainerConfig
from dockfleet.redis_retry import UNAVAILABLE, retrying
from dockfleet.store import transfers
from dockfleet.tar_stream import Owner, relocated
from dockfleet.transfer import Limits, receive
from worker.engine import containers as engine
from worker.engine import images
from worker.jobs.job_run import JobRun
from worker.ops import users


def put(run: JobRun, container_id: str, config: ContainerConfig) -> None:
    """Unpack the job's workspace into its created (never started) container.

    Raises:
        TransferFailed: the client stopped or aborted, Redis lost it, or an earlier run
            took part of it.
        PolicyViolation: a member of the tar breaks `dockfleet.tar_stream.MemberRules`,
            the tar passes ``workspace_max_bytes``, or the target lies below a symlink.
    """
    assert run.spec.workspace is not None
    rt, target = run.rt, run.spec.workspace.target
    transfer_id = transfers.job_workspace(run.job_id)
    settings = rt.settings
    limits = Limits.of(settings)
    status = retrying(lambda: transfers.status(rt.redis, transfer_id), "reading a transfer")
    if status is not None and status.state == transfers.DELIVERED:
        return  # an earlier run of the job unpacked it all
    if status is not None and status.acked and status.state != transfers.ABORTED:
        reason = (
            f"the upload was cut after {status.taken_bytes} bytes (the worker receiving it "
            "stopped, or lost Redis); those bytes cannot be read again: run the job again"
        )
        retrying(lambda: transfers.abort(rt.redis, transfer_id, reason, limits.ttl), "abort")
        raise TransferFailed(transfer_id, reason)
    image = images.inspect_if_present(rt.docker, config.reference, rt.host)
    if image is None:
        raise ImageNotFound(config.reference, rt.host)
    owner = Owner(*users.owner_ids(rt, config, image))
    _check_target(run, container_id, target)
    token = run.lease.token
    chunks = receive(rt.redis_bytes, transfer_id, token, limits)
    tar = relocated(chunks, target, owner, settings.workspace_max_bytes, what="the workspace")
    try:
        engine.put_archive(rt.docker, container_id, "/", tar)
    except BaseException as exc:
        if not isinstance(exc, UNAVAILABLE):  # else the rerun finds it cut, and says so
            why = str(exc) or type(exc).__name__
            retrying(
                lambda: transfers.abort(rt.redis, transfer_id, why, limits.ttl, token=token),
                "abort",
            )
        raise
    # Remembered while a rerun may still find the container unstarted: within the job's time.
    keep = int(run.spec.timeout) + limits.ttl
    retrying(lambda: transfers.deliver(rt.redis, transfer_id, token, keep), "deliver")


def _check_target(run: JobRun, container_id: str, target: str) -> None:
    """The folders above the target must not be symlinks of the image: the engine would
    follow them (inside the container), and the workspace would land elsewhere. The
    target itself and everything below it the tar makes anew."""
    parts = target.strip("/").split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        folder = "/" + posixpath.join(*parts[:depth])
        if engine.is_symlink(run.rt.docker, container_id, folder):
            raise PolicyViolation(
                "workspace-target",
                f"{folder} is a symlink in the image",
                "choose a workspace target whose folders are real folders",
            )
