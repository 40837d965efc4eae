"""Job calls of the client: `run_job` and handles to jobs by id."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable
from pathlib import Path

from dockfleet.client import workspace_upload
from dockfleet.client.base import FleetBase
from dockfleet.client.folder_tar import FolderTar
from dockfleet.client.job_handle import JobHandle
from dockfleet.errors import BrokerUnavailable, InvalidSpec, TransferFailed
from dockfleet.models.artifacts import ArtifactsReport
from dockfleet.models.jobs import JobSpec
from dockfleet.policy import check_container
from dockfleet.policy_model import SecurityPolicy
from dockfleet.queues import TaskNames, job_queue
from dockfleet.redis_retry import UNAVAILABLE
from dockfleet.store import job_records
from dockfleet.validation import parse

log = logging.getLogger(__name__)


def check_job(spec: JobSpec, policy: SecurityPolicy) -> None:
    """Apply the policy to every container of a job, as the producer does before sending.

    Raises:
        PolicyViolation: for the first rule a container breaks.
    """
    for config in [spec.job_container(), *(s.container for s in spec.services)]:
        check_container(config, policy)


def _upload(
    handle: JobHandle, tar: FolderTar, on_upload: Callable[[int, int], None] | None
) -> None:
    """Send the job's workspace. A failure on the worker's side (a refused member, the
    job ended) is the job's to report: its handle says why. One on this side (a file
    changed, Ctrl-C, Redis lost) aborts the upload and cancels the job before raising."""
    progress = (lambda done: on_upload(done, tar.size)) if on_upload else None
    try:
        workspace_upload.upload(handle.transport, handle.id, tar, progress)
    except TransferFailed:
        return
    except BaseException as exc:
        with contextlib.suppress(*UNAVAILABLE):
            why = str(exc) or type(exc).__name__
            workspace_upload.abort(handle.transport, handle.id, f"the client stopped: {why}")
            handle.cancel()
        raise


class JobsMixin(FleetBase):
    """Run CI jobs on the fleet."""

    def run_job(
        self, spec: JobSpec, *, on_upload: Callable[[int, int], None] | None = None
    ) -> JobHandle:
        """Submit a job; it runs on `spec.host` or on whichever live host takes it.

        A job with a workspace returns once the worker has unpacked it into the job's
        container (the job starts right after); a workspace over ``workspace_max_bytes``
        is refused before anything is sent.

        Args:
            on_upload: called with (bytes taken by the worker, total) while a workspace
                is sent.

        Raises:
            InvalidSpec, PolicyViolation: before anything is sent.
            TransferFailed: the workspace upload failed on this side (the job is canceled).
        """
        spec = parse(JobSpec, spec)
        check_job(spec, self.settings.policy)
        job_id = spec.job_id or uuid.uuid4().hex
        spec = spec.model_copy(update={"job_id": job_id})
        tar = workspace_upload.plan(spec.workspace, self.settings) if spec.workspace else None
        if not spec.host and not self.live_hosts():
            raise self.transport.no_live_host()
        wire = spec.model_dump(mode="json", context={"reveal_secrets": True})
        retention = self.settings.retention.results_seconds
        # The transfer before the job's message: the worker that takes the job must find it.
        opened = tar is None or workspace_upload.open_for(self.transport, job_id, tar)
        if not opened or not job_records.submit(
            self.transport.redis, job_id, wire, spec.host, retention
        ):
            raise InvalidSpec(f"job_id: {job_id!r} is already used")
        shown = repr([spec.model_dump(mode="json"), job_id])  # Flower's view: secrets masked
        queue = job_queue(spec.host)
        handle = JobHandle(self.transport, job_id)
        try:
            self.transport.send(
                TaskNames.JOB_RUN,
                [wire, job_id],
                queue,
                timeout=None,
                argsrepr=shown,
                task_id=job_id,
                ignore_result=True,  # its result is the job record's (`JobHandle.wait`)
            )
        except BrokerUnavailable:
            # The caller is told it failed, so it must never run: a message that did get
            # through finds the job finished (canceled) and does nothing.
            with contextlib.suppress(*UNAVAILABLE):
                handle.cancel()
            raise
        try:
            job_records.mark_sent(self.transport.redis, job_id, queue)
        except UNAVAILABLE:  # sent all the same; only the watch for a lost message is missing
            log.warning("job %s sent, but Redis went away before it was marked sent", job_id)
        if tar is not None:
            _upload(handle, tar, on_upload)
        return handle

    def job(self, job_id: str) -> JobHandle:
        """A handle to a job submitted earlier (by anyone)."""
        handle = JobHandle(self.transport, job_id)
        if not handle.state:
            raise InvalidSpec(f"job: no such job {job_id!r} (unknown or expired)")
        return handle

    def is_job(self, ref: str) -> bool:
        return bool(JobHandle(self.transport, ref).state)

    def cancel_job(self, job_id: str) -> str | None:
        return self.job(job_id).cancel()

    def download_artifacts(
        self,
        job_id: str,
        target: str | Path = ".",
        on_progress: Callable[[int, int], None] | None = None,
        *,
        wait: bool = False,
    ) -> ArtifactsReport:
        """Fetch a job's stored artifacts into `target` (see `JobHandle.download_artifacts`)."""
        handle = JobHandle(self.transport, job_id)
        return handle.download_artifacts(target, on_progress, wait=wait)
