"""A job's artifacts on their way out: fetched from the worker that holds them, unpacked here.

The record (`dockfleet.store.artifacts`) says which Docker host's workers hold the tar.
The client opens a transfer, sends ``dockfleet.jobs.artifacts`` to that host's queue,
and reads the chunks the worker streams (`dockfleet.transfer`, in the window
``transfer_window``; the roles of a workspace upload the other way round), unpacking
them as they come (`dockfleet.artifact_tar.unpack`: every member checked, links kept
as links). Redis is the only path between the two machines, so it works from any
machine that reaches the fleet's Redis.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from dockfleet.artifact_tar import unpack
from dockfleet.client.transport import Transport
from dockfleet.errors import TransferFailed
from dockfleet.models.artifacts import ArtifactsReport
from dockfleet.queues import TaskNames, host_queue
from dockfleet.redis_client import ANSWER_TIMEOUT, connect
from dockfleet.store import artifacts as artifact_records
from dockfleet.store import transfers
from dockfleet.transfer import Limits, receive


def stored(transport: Transport, job_id: str) -> artifact_records.Stored:
    """The job's stored artifacts.

    Raises:
        TransferFailed: it has none (none asked, none kept, nothing matched, or expired).
    """
    found = artifact_records.read(transport.redis, job_id)
    if found is None:
        raise TransferFailed(
            f"{job_id}.artifacts",
            f"job {job_id} has no stored artifacts (none asked or kept, nothing matched, "
            "or they expired after DOCKFLEET_ARTIFACT_TTL)",
        )
    return found


def download(
    transport: Transport,
    job_id: str,
    target: Path,
    live_hosts: list[str],
    on_progress: Callable[[int, int], None] | None = None,
) -> ArtifactsReport:
    """Fetch the job's artifacts into the folder `target` (paths kept); their report.

    Args:
        live_hosts: the hosts with a live worker (the holder's must be one).
        on_progress: called with (bytes received, total).

    Raises:
        TransferFailed: none stored, the holder is gone or refused, or the stream broke.
        PolicyViolation: a member of the tar would land outside `target`.
    """
    found = stored(transport, job_id)
    transfer_id = f"{job_id}.artifacts.{uuid.uuid4().hex[:12]}"
    if found.host not in live_hosts:
        raise TransferFailed(
            transfer_id,
            f"they are held by a worker of host {found.host!r} (machine {found.machine}), "
            "and no worker of that host is live",
        )
    limits = Limits.of(transport.settings)
    transfers.open_transfer(
        transport.redis, transfer_id, window=limits.window, size=found.size, ttl=limits.ttl
    )
    transport.send(
        TaskNames.JOB_ARTIFACTS,
        [job_id, transfer_id],
        host_queue(found.host),
        timeout=float(limits.ttl),
        ignore_result=True,  # its outcome is the transfer's, read below
    )
    token = uuid.uuid4().hex
    binary = connect(transport.settings, text=False, timeout=ANSWER_TIMEOUT)
    try:
        chunks = _counted(receive(binary, transfer_id, token, limits), found.size, on_progress)
        unpack(chunks, target)
        transfers.deliver(transport.redis, transfer_id, token, limits.ttl)
    except BaseException as exc:
        with contextlib.suppress(Exception):
            why = f"the client stopped: {exc or type(exc).__name__}"
            transfers.abort(transport.redis, transfer_id, why, limits.ttl, token=token)
        raise
    finally:
        binary.close()
    return found.report


def _counted(
    chunks: Iterator[bytes], total: int, on_progress: Callable[[int, int], None] | None
) -> Iterator[bytes]:
    done = 0
    for chunk in chunks:
        done += len(chunk)
        if on_progress is not None:
            on_progress(done, total)
        yield chunk
