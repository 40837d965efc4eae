"""Tasks ``dockfleet.caches.*``: the job caches of one host, listed and removed."""

from __future__ import annotations

from typing import Any

from dockfleet.queues import TaskNames
from tasks.base import DockerTask, dump, dump_all
from worker.app import app
from worker.ops import cache_ops

Json = dict[str, Any]


@app.task(name=TaskNames.CACHE_LIST, base=DockerTask, bind=True)
def list_(self: DockerTask) -> list[Json]:
    return dump_all(cache_ops.list_caches(self.rt))


@app.task(name=TaskNames.CACHE_REMOVE, base=DockerTask, bind=True)
def remove(self: DockerTask, key: str) -> Json:
    return dump(cache_ops.remove(self.rt, key))
