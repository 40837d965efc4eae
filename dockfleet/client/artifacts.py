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
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from dockfleet.artifact_tar import unpack
from dockfleet.client.transport import Transport
from dockfleet.errors import TransferFailed
from dockfleet.models.artifacts import ArtifactsReport
from dockfleet.queues import TaskNames, host_queue
from dockfleet.redis_client import ANSWER_TIMEOUT, connect
from dockfleet.redis_retry import retrying
from dockfleet.store import artifacts as artifact_records
from dockfleet.store import job_records, transfers
from dockfleet.transfer import Limits, receive

#: seconds between looks for a job's artifacts while it runs, and once its container exited
RUNNING_POLL, EXITED_POLL = 0.1, 0.02


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
    *,
    wait: bool = False,
) -> ArtifactsReport:
    """Fetch the job's artifacts into the folder `target` (paths kept); their report.

    With `wait`, for a job that may still run: wait for its artifacts, and follow their
    copy out of the job's container as it is written (the copy and the download at the
    same time, as ``docker cp`` does). A copy that stops (its worker killed, a member
    refused) is not the job's last word: then this waits for the job's result and
    fetches what it stored, if anything.

    Args:
        live_hosts: the hosts with a live worker (the holder's must be one).
        on_progress: called with (bytes received, total; 0 while not known yet).

    Raises:
        TransferFailed: none stored, the holder is gone or refused, or the stream broke.
        PolicyViolation: a member of the tar would land outside `target`.
    """
    copy = _copy_begun(transport, job_id) if wait else None
    if copy is not None:
        try:
            _fetch(transport, job_id, copy.host, 0, target, on_progress)
            return stored(transport, job_id).report
        except TransferFailed:
            _job_ended(transport, job_id)  # the result says what was stored in the end
    found = stored(transport, job_id)
    if found.host not in live_hosts:
        raise TransferFailed(
            f"{job_id}.artifacts",
            f"they are held by a worker of host {found.host!r} (machine {found.machine}), "
            "and no worker of that host is live",
        )
    _fetch(transport, job_id, found.host, found.size, target, on_progress)
    return found.report


def _copy_begun(transport: Transport, job_id: str) -> artifact_records.Copying | None:
    """The copy of the job's artifacts once it begins; None when they are stored already
    or the job ended (with or without them)."""
    redis = transport.redis
    while True:
        if retrying(lambda: artifact_records.read(redis, job_id), "reading artifacts"):
            return None
        copy = retrying(lambda: artifact_records.copying(redis, job_id), "reading artifacts")
        if copy is not None:
            return copy
        fields = _job_fields(transport, job_id)
        if _over(fields):
            return None
        # Its container has exited once the outcome is kept: the copy comes next.
        time.sleep(EXITED_POLL if job_records.outcome_of(fields) else RUNNING_POLL)


def _job_ended(transport: Transport, job_id: str) -> None:
    while not _over(_job_fields(transport, job_id)):
        time.sleep(EXITED_POLL)


def _job_fields(transport: Transport, job_id: str) -> dict[str, str]:
    return retrying(lambda: job_records.read(transport.redis, job_id), "reading a job")


def _over(fields: dict[str, str]) -> bool:
    """The job has its result (or is unknown, or expired)."""
    return not fields or job_records.result_of(fields) is not None


def _fetch(
    transport: Transport,
    job_id: str,
    host: str,
    size: int,
    target: Path,
    on_progress: Callable[[int, int], None] | None,
) -> None:
    """Ask a worker of `host` to stream the job's tar (`size` bytes, 0 when not known yet)
    and unpack it into `target` as it comes."""
    transfer_id = f"{job_id}.artifacts.{uuid.uuid4().hex[:12]}"
    limits = Limits.of(transport.settings)
    transfers.open_transfer(
        transport.redis, transfer_id, window=limits.window, size=size, ttl=limits.ttl
    )
    transport.send(
        TaskNames.JOB_ARTIFACTS,
        [job_id, transfer_id],
        host_queue(host),
        timeout=float(limits.ttl),
        ignore_result=True,  # its outcome is the transfer's, read below
    )
    token = uuid.uuid4().hex
    binary = connect(transport.settings, text=False, timeout=ANSWER_TIMEOUT)
    try:
        chunks = _counted(receive(binary, transfer_id, token, limits), size, on_progress)
        unpack(chunks, target)
        transfers.deliver(transport.redis, transfer_id, token, limits.ttl)
    except BaseException as exc:
        with contextlib.suppress(Exception):
            why = f"the client stopped: {exc or type(exc).__name__}"
            transfers.abort(transport.redis, transfer_id, why, limits.ttl, token=token)
        raise
    finally:
        binary.close()


def _counted(
    chunks: Iterator[bytes], total: int, on_progress: Callable[[int, int], None] | None
) -> Iterator[bytes]:
    done = 0
    for chunk in chunks:
        done += len(chunk)
        if on_progress is not None:
            on_progress(done, total)
        yield chunk
