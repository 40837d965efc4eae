"""Image operations of one host: single-flight pulls with retries, push, tag, remove, list.

`pull` is what both the images tasks and the jobs runner call. Two pulls of
one reference on one host — in any worker processes — make one engine pull:
the first takes a Redis lock keyed by host and reference, the others wait on
it and reuse its outcome when it succeeded. Transient failures (engine or
registry hiccups) are retried in place with jittered backoff.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

from dockfleet.errors import (
    FleetError,
    ImageNotFound,
    InvalidSpec,
    OperationTimeout,
    RegistryAuthError,
)
from dockfleet.models import (
    ImageFilter,
    ImageInfo,
    ImageRemoveResult,
    PushResult,
    PushSpec,
    RegistryCredentials,
    TransferProgress,
)
from dockfleet.models.images import check_reference, registry_of, with_default_tag
from dockfleet.policy import check_image_reference
from dockfleet.policy_images import check_produced_name
from dockfleet.store import image_pulls
from worker.engine import images as engine
from worker.engine.errors import translate
from worker.ops.retry import backoff
from worker.ops.transfer import TransferTracker
from worker.runtime import Runtime

ProgressCallback = Callable[[TransferProgress], None]


def pull(
    rt: Runtime,
    reference: str,
    credentials: RegistryCredentials | None = None,
    on_progress: ProgressCallback | None = None,
    *,
    platform: str | None = None,
) -> ImageInfo:
    """Pull `reference` onto this host, once however many ask at the same time.

    Credentials: those given, else the settings' ``registry_auth`` for the
    reference's registry, else none.

    Raises:
        ImageNotFound: no such repository or tag in the registry.
        RegistryAuthError: the registry refused the credentials (or wants some).
        PolicyViolation: the policy's ``allowed_images`` does not match.
        EngineBusy, HostUnavailable: still failing after the retries.
    """
    reference = with_default_tag(_valid(reference))
    check_image_reference(reference, rt.settings.policy)
    auth = auth_for(rt, reference, credentials)
    tracker = TransferTracker(reference, rt.host, "pull")
    turn = image_pulls.PullTurn(rt.redis, rt.host, reference)
    # Read before trying the lock: a pull that finishes after this point is one we can reuse.
    seen = turn.finished()
    if not turn.take():
        if on_progress:
            on_progress(tracker.progress("waiting for another pull of it", waiting=True))
        timeout = rt.settings.images.pull_timeout
        if not turn.wait(timeout):
            raise OperationTimeout(
                f"waited {timeout:g}s for another pull of {reference} on host {rt.host!r}"
            )
    try:
        if turn.finished() > seen:
            reused = engine.inspect_if_present(rt.docker, reference, rt.host)
            if reused is not None:  # else removed since that pull: pull it again
                return reused
        events = lambda: engine.pull(rt.docker, reference, auth, platform=platform)  # noqa: E731
        _transfer(rt, reference, events, tracker, on_progress, turn)
        turn.done()
    finally:
        turn.release()
    return engine.inspect(rt.docker, reference, rt.host)


def push(rt: Runtime, spec: PushSpec, on_progress: ProgressCallback | None = None) -> PushResult:
    """Push a local image to the registry its reference names, retrying transient failures."""
    reference = with_default_tag(spec.reference)
    if not engine.exists(rt.docker, reference):
        raise ImageNotFound(reference, rt.host)
    auth = auth_for(rt, reference, spec.credentials)
    tracker = TransferTracker(reference, rt.host, "push")
    events = lambda: engine.push(rt.docker, reference, auth)  # noqa: E731
    _transfer(rt, reference, events, tracker, on_progress, None)
    return PushResult(reference=reference, host=rt.host, digest=tracker.digest, size=tracker.size)


def tag(rt: Runtime, source: str, target: str) -> ImageInfo:
    """Give the image `source` the extra name `target` (both on this host)."""
    target = with_default_tag(_valid(target))
    check_produced_name(target, rt.settings.policy, rt.settings.cleanup.image_pins)
    if not engine.exists(rt.docker, source):
        raise ImageNotFound(source, rt.host)
    engine.tag(rt.docker, source, target)
    return engine.inspect(rt.docker, target, rt.host)


def remove(rt: Runtime, reference: str, *, force: bool, no_prune: bool) -> ImageRemoveResult:
    """Remove an image (or one of its tags); one already gone is success."""
    outcome = engine.remove(rt.docker, reference, force=force, no_prune=no_prune)
    if outcome is None:
        return ImageRemoveResult(reference=reference, host=rt.host, removed=False)
    untagged, deleted = outcome
    return ImageRemoveResult(
        reference=reference, host=rt.host, removed=True, untagged=untagged, deleted=deleted
    )


def list_images(rt: Runtime, query: ImageFilter) -> list[ImageInfo]:
    """Images of this host matching `query`, newest first."""
    filters: dict[str, Any] = {}
    labels = [k if v is None else f"{k}={v}" for k, v in query.labels.items()]
    if query.managed_only:
        labels += ["dockfleet.managed=true", f"dockfleet.host={rt.host}"]
    if labels:
        filters["label"] = labels
    if query.reference:
        filters["reference"] = query.reference
    if query.dangling is not None:
        filters["dangling"] = ["true" if query.dangling else "false"]
    infos = engine.list_images(rt.docker, rt.host, filters)
    infos.sort(key=lambda i: (i.created is not None, i.created), reverse=True)
    return infos


def auth_for(
    rt: Runtime, reference: str, credentials: RegistryCredentials | None
) -> dict[str, str] | None:
    """The engine's auth fields: the call's credentials, else the settings' for the registry."""
    chosen = credentials or rt.settings.credentials_for(registry_of(reference))
    return chosen.auth_config(reference) if chosen else None


def _transfer(
    rt: Runtime,
    reference: str,
    events: Callable[[], Iterator[dict[str, Any]]],
    tracker: TransferTracker,
    on_progress: ProgressCallback | None,
    turn: image_pulls.PullTurn | None,
) -> None:
    """Run a pull or push to its end, retrying transient failures with jittered backoff."""
    attempts = rt.settings.images.pull_attempts
    for attempt in range(attempts):
        renewed = time.monotonic()
        try:
            for event in events():
                progress = tracker.update(event)
                if progress is not None and on_progress is not None:
                    on_progress(progress)
                if turn is not None and time.monotonic() - renewed > image_pulls.LOCK_SECONDS / 4:
                    turn.renew()
                    renewed = time.monotonic()
            return
        except Exception as exc:
            error = _in_context(translate(exc, rt.host), reference, rt.host, tracker.action)
            if error is None:
                raise
            if not error.transient or attempt == attempts - 1:
                raise error from None
        time.sleep(backoff(attempt))


def _in_context(
    error: FleetError | None, reference: str, host: str, action: Literal["pull", "push"]
) -> FleetError | None:
    """The error made precise with what only this call knows: the reference and its registry."""
    if isinstance(error, RegistryAuthError) and not error.registry:
        return RegistryAuthError(registry_of(reference), host, error.reason)
    if isinstance(error, ImageNotFound) and action == "pull":
        return ImageNotFound(reference, host)
    return error


def _valid(reference: str) -> str:
    try:
        return check_reference(reference)
    except ValueError as exc:
        raise InvalidSpec(f"reference: {exc}") from None
