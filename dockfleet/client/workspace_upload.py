"""A job's workspace on its way in: planned before the job is sent, streamed while it starts.

`plan` walks the folder (`folder_tar`): a folder over ``workspace_max_bytes`` is refused
there, before anything is sent or run. `open_for` creates the transfer before the job's
message leaves, so the worker that takes the job finds it; `send` then streams the tar
through it (`dockfleet.transfer`, in the window ``transfer_window``) while the worker
pulls, makes the job's network and services and its container, and returns once the
worker has unpacked it all. Redis is the only path between the two machines.
"""

from __future__ import annotations

from collections.abc import Callable

from dockfleet.client import folder_tar
from dockfleet.client.folder_tar import Cap, FolderTar
from dockfleet.client.transport import Transport
from dockfleet.models.jobs import Workspace
from dockfleet.settings import Settings
from dockfleet.store import job_records, transfers
from dockfleet.transfer import Limits, send

#: job states in which a workspace will never be taken any more
ENDED = ("finished", "canceled")


def plan(workspace: Workspace, settings: Settings) -> FolderTar:
    """The workspace's tar, planned; refused over ``workspace_max_bytes``.

    Raises:
        InvalidSpec: not a folder, unreadable, or over the cap.
    """
    cap = Cap(settings.workspace_max_bytes, "workspace", "DOCKFLEET_WORKSPACE_MAX_BYTES")
    return folder_tar.plan(workspace.source, cap)


def open_for(transport: Transport, job_id: str, tar: FolderTar) -> bool:
    """Open the job's workspace transfer (before the job is sent); False if the job id
    has one already."""
    settings = transport.settings
    return transfers.open_transfer(
        transport.redis,
        transfers.job_workspace(job_id),
        window=settings.transfer_window,
        size=tar.size,
        ttl=settings.transfer_idle_seconds,
    )


def upload(
    transport: Transport,
    job_id: str,
    tar: FolderTar,
    on_progress: Callable[[int], None] | None = None,
) -> None:
    """Stream the tar until the worker has unpacked it.

    Raises:
        TransferFailed: the worker refused or lost it, or the job ended first.
        InvalidSpec: a file changed while it was read.
    """
    redis = transport.redis

    def ended() -> str | None:
        state = job_records.state(redis, job_id)
        if state in ENDED or not state:
            return f"job {job_id} is {state or 'gone'}; its workspace was not taken"
        return None

    limit = Limits.of(transport.settings)
    chunks = folder_tar.chunks(tar, limit.chunk_bytes)
    send(
        redis,
        transfers.job_workspace(job_id),
        chunks,
        limit,
        stop=ended,
        on_progress=on_progress,
    )


def abort(transport: Transport, job_id: str, reason: str) -> None:
    """Give the upload up (the client failed or was interrupted): the worker fails the job."""
    settings = transport.settings
    transfers.abort(
        transport.redis, transfers.job_workspace(job_id), reason, settings.transfer_idle_seconds
    )
