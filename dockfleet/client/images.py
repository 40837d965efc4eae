"""Image calls of the client: pull, push, build (with progress and live log), tag, remove, list.

An image lives on one host, so every call names one: ``host=`` or, when the
fleet has exactly one live host, that one. Pull, push and build stream their
progress through Redis while they run (see `dockfleet.client.logs.read_events`);
registry passwords go to the worker in the message only, masked everywhere else.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dockfleet.client.base import SLACK_SECONDS, FleetBase
from dockfleet.client.logs import read_events, take_lease
from dockfleet.client.uploads import discard, tar_folder, upload
from dockfleet.models import (
    BuildContext,
    BuildOptions,
    BuildResult,
    ImageFilter,
    ImageInfo,
    ImageRemoveResult,
    PullSpec,
    PushResult,
    PushSpec,
    RegistryCredentials,
    TransferProgress,
)
from dockfleet.models.builds import URL_SCHEMES
from dockfleet.policy import check_image_reference
from dockfleet.policy_images import check_produced_name
from dockfleet.queues import TaskNames, host_queue
from dockfleet.validation import parse

ProgressCallback = Callable[[TransferProgress], None]
LineCallback = Callable[[str], None]
#: what `build_image` accepts as a context: a folder or URL (str/Path), or a tar's bytes
Context = str | os.PathLike[str] | bytes


class ImagesMixin(FleetBase):
    def pull_image(
        self,
        reference: str,
        credentials: RegistryCredentials | None = None,
        *,
        host: str | None = None,
        platform: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> ImageInfo:
        """Pull `reference` onto a host; concurrent pulls of it there are done once.

        Args:
            credentials: for the reference's registry; default: the worker's
                ``registry_auth`` setting for that registry, else anonymous.
            on_progress: called with each `TransferProgress` while it runs.

        Raises:
            ImageNotFound, RegistryAuthError, PolicyViolation, HostUnavailable.
        """
        spec = parse(PullSpec, {"reference": reference, "credentials": credentials,
                                "platform": platform})  # fmt: skip
        check_image_reference(spec.reference, self.settings.policy)
        return ImageInfo.model_validate(
            self._transfer(TaskNames.IMAGE_PULL, spec, host, on_progress)
        )

    def push_image(
        self,
        reference: str,
        credentials: RegistryCredentials | None = None,
        *,
        host: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> PushResult:
        """Push a host's image to the registry its reference names."""
        spec = parse(PushSpec, {"reference": reference, "credentials": credentials})
        return PushResult.model_validate(
            self._transfer(TaskNames.IMAGE_PUSH, spec, host, on_progress)
        )

    def build_image(
        self,
        context: Context | BuildContext,
        options: BuildOptions | None = None,
        *,
        host: str | None = None,
        upload_context: bool = True,
        on_log: LineCallback | None = None,
    ) -> BuildResult:
        """Build an image on a host, the log streamed to `on_log` line by line.

        Args:
            context: a folder, a URL the engine fetches (http(s):// or git), the
                bytes of a tar, or an explicit `BuildContext`.
            upload_context: a folder is tarred here and uploaded (the default);
                False means the folder is on the worker's machine.

        Raises:
            BuildFailed: a step failed; ``.log_tail`` holds the log's last lines.
        """
        options = parse(BuildOptions, options or {})
        for name in options.tags:  # refused here already: nothing is uploaded for it
            check_produced_name(name, self.settings.policy, self.settings.cleanup.image_pins)
        source, upload_id = self._build_context(context, upload_context)
        try:
            raw = self._streamed(
                TaskNames.IMAGE_BUILD,
                [source.model_dump(mode="json"), options.model_dump(mode="json")],
                None,
                host,
                self.settings.images.build_timeout,
                (lambda fields: on_log(fields.get("l", ""))) if on_log else None,
            )
        finally:
            if upload_id:
                discard(self.transport, upload_id)
        return BuildResult.model_validate(raw)

    def tag_image(self, source: str, target: str, host: str | None = None) -> ImageInfo:
        check_produced_name(target, self.settings.policy, self.settings.cleanup.image_pins)
        raw = self._call(TaskNames.IMAGE_TAG, [source, target], host or self._only_host())
        return ImageInfo.model_validate(raw)

    def remove_image(
        self, reference: str, force: bool = False, no_prune: bool = False, host: str | None = None
    ) -> ImageRemoveResult:
        """Remove an image (or one of its tags) from a host; one already gone is success."""
        args = [reference, force, no_prune]
        raw = self._call(TaskNames.IMAGE_REMOVE, args, host or self._only_host())
        return ImageRemoveResult.model_validate(raw)

    def list_images(self, query: ImageFilter | None = None) -> list[ImageInfo]:
        """Images of every live host (or of ``query.host``), newest first."""
        query = parse(ImageFilter, query or {})
        args = [query.model_dump(mode="json")]
        infos = self._gather(TaskNames.IMAGE_LIST, args, self._targets(query.host), ImageInfo)
        infos.sort(key=lambda i: (i.created is not None, i.created), reverse=True)
        return infos

    def _build_context(
        self, context: Context | BuildContext, upload_context: bool
    ) -> tuple[BuildContext, str | None]:
        if isinstance(context, BuildContext):
            return context, None
        if isinstance(context, bytes):
            upload_id = upload(self.transport, context)
            return BuildContext(kind="upload", location=upload_id), upload_id
        text = os.fspath(context)
        if text.startswith(URL_SCHEMES):
            return BuildContext(kind="url", location=text), None
        if not upload_context:
            return parse(BuildContext, {"kind": "path", "location": text}), None
        path = Path(text)
        limit = self.settings.images.upload_max_bytes
        data = path.read_bytes() if path.is_file() else tar_folder(path, limit)
        upload_id = upload(self.transport, data)
        return BuildContext(kind="upload", location=upload_id), upload_id

    def _transfer(
        self,
        name: str,
        spec: PullSpec | PushSpec,
        host: str | None,
        on_progress: ProgressCallback | None,
    ) -> Any:
        """Pull or push: the registry password reaches the worker in the message only (Flower
        shows the spec masked), and each progress event becomes a `TransferProgress`."""
        wire = spec.model_dump(mode="json", context={"reveal_secrets": True})
        shown = [spec.model_dump(mode="json")]
        timeout = self.settings.images.pull_timeout
        return self._streamed(name, [wire], shown, host, timeout, _progress_handler(on_progress))

    def _streamed(
        self,
        name: str,
        args: list[Any],
        shown: list[Any] | None,
        host: str | None,
        timeout: float,
        on_event: Callable[[dict[str, str]], None] | None,
    ) -> Any:
        """Send a task that streams events, hand each to `on_event`, return its result.

        `shown` is what Flower displays as the arguments (secrets masked).
        """
        target = host or self._only_host()
        queue = host_queue(target)
        stream_id = uuid.uuid4().hex
        take_lease(self.transport, stream_id)
        start = self.settings.default_timeout
        argsrepr = repr([*shown, stream_id]) if shown is not None else None
        result = self.transport.send(
            name, [*args, stream_id], queue, timeout=start, argsrepr=argsrepr
        )
        for fields in read_events(self.transport, stream_id, result, target, start):
            if on_event is not None:
                on_event(fields)
        return self.transport.wait(result, queue, timeout + SLACK_SECONDS)


def _progress_handler(
    on_progress: ProgressCallback | None,
) -> Callable[[dict[str, str]], None] | None:
    if on_progress is None:
        return None
    return lambda fields: on_progress(TransferProgress.model_validate_json(fields["p"]))
