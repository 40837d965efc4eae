"""Tasks ``dockfleet.images.*``: one view per image operation.

Pull, push and build stream their progress (or log) to the client through an
event stream when the client names one; they retry in place (pulls and
pushes) or not at all (a build's uploaded context is used once), so the task
itself does not retry them.
"""

from __future__ import annotations

from typing import Any

from dockfleet.models import BuildContext, BuildOptions, ImageFilter, PullSpec, PushSpec
from dockfleet.queues import TaskNames
from dockfleet.validation import parse
from tasks.base import DockerTask, dump, dump_all
from worker.app import app
from worker.ops import build_ops, image_ops
from worker.ops.event_stream import event_stream

Json = dict[str, Any]


@app.task(name=TaskNames.IMAGE_PULL, base=DockerTask, bind=True, max_retries=0)
def pull(self: DockerTask, spec: Json, stream_id: str | None = None) -> Json:
    request = parse(PullSpec, spec)
    with event_stream(self.rt, stream_id) as stream:
        info = image_ops.pull(
            self.rt,
            request.reference,
            request.credentials,
            lambda p: stream.emit({"p": p.model_dump_json()}),
            platform=request.platform,
        )
    return dump(info)


@app.task(name=TaskNames.IMAGE_PUSH, base=DockerTask, bind=True, max_retries=0)
def push(self: DockerTask, spec: Json, stream_id: str | None = None) -> Json:
    request = parse(PushSpec, spec)
    with event_stream(self.rt, stream_id) as stream:
        result = image_ops.push(self.rt, request, lambda p: stream.emit({"p": p.model_dump_json()}))
    return dump(result)


@app.task(name=TaskNames.IMAGE_BUILD, base=DockerTask, bind=True, max_retries=0)
def build(self: DockerTask, context: Json, options: Json, stream_id: str | None = None) -> Json:
    source, opts = parse(BuildContext, context), parse(BuildOptions, options)
    with event_stream(self.rt, stream_id) as stream:
        result = build_ops.build(self.rt, source, opts, stream.line)
    return dump(result)


@app.task(name=TaskNames.IMAGE_TAG, base=DockerTask, bind=True)
def tag(self: DockerTask, source: str, target: str) -> Json:
    return dump(image_ops.tag(self.rt, source, target))


@app.task(name=TaskNames.IMAGE_REMOVE, base=DockerTask, bind=True)
def remove(self: DockerTask, reference: str, force: bool = False, no_prune: bool = False) -> Json:
    return dump(image_ops.remove(self.rt, reference, force=force, no_prune=no_prune))


@app.task(name=TaskNames.IMAGE_LIST, base=DockerTask, bind=True)
def list_(self: DockerTask, query: Json | None = None) -> list[Json]:
    return dump_all(image_ops.list_images(self.rt, parse(ImageFilter, query or {})))
