"""Tasks ``dockfleet.containers.*``: one view per container operation."""

from __future__ import annotations

from typing import Any

from dockfleet.errors import InvalidSpec
from dockfleet.models import ContainerConfig, ContainerFilter, LogOptions
from dockfleet.queues import TaskNames
from dockfleet.validation import parse
from tasks.base import DockerTask, dump, dump_all
from worker.app import app
from worker.engine import stats as engine_stats
from worker.ops import container_ops
from worker.ops.log_stream import copy_logs

Json = dict[str, Any]


@app.task(name=TaskNames.CREATE, base=DockerTask, bind=True)
def create(self: DockerTask, config: Json) -> Json:
    # No job argument: only the job runner makes a job's containers (and labels them so).
    return dump(container_ops.create(self.rt, parse(ContainerConfig, config)))


@app.task(name=TaskNames.START, base=DockerTask, bind=True)
def start(self: DockerTask, ref: str) -> Json:
    return dump(container_ops.start(self.rt, ref))


@app.task(name=TaskNames.STOP, base=DockerTask, bind=True)
def stop(self: DockerTask, ref: str, timeout: int | None = None) -> Json:
    return dump(container_ops.stop(self.rt, ref, timeout))


@app.task(name=TaskNames.RESTART, base=DockerTask, bind=True)
def restart(self: DockerTask, ref: str, timeout: int | None = None) -> Json:
    return dump(container_ops.restart(self.rt, ref, timeout))


@app.task(name=TaskNames.KILL, base=DockerTask, bind=True)
def kill(self: DockerTask, ref: str, signal: str = "SIGKILL") -> Json:
    return dump(container_ops.kill(self.rt, ref, signal))


@app.task(name=TaskNames.REMOVE, base=DockerTask, bind=True)
def remove(self: DockerTask, ref: str, force: bool = False, volumes: bool = False) -> Json:
    return dump(container_ops.remove(self.rt, ref, force=force, volumes=volumes))


@app.task(name=TaskNames.WAIT, base=DockerTask, bind=True)
def wait(self: DockerTask, ref: str, timeout: float | None = None) -> Json:
    return dump(container_ops.wait(self.rt, ref, timeout))


@app.task(name=TaskNames.LOGS, base=DockerTask, bind=True)
def logs(self: DockerTask, ref: str, options: Json, stream_id: str) -> Json:
    return dump(copy_logs(self.rt, ref, parse(LogOptions, options), stream_id))


@app.task(name=TaskNames.STATS, base=DockerTask, bind=True)
def stats(self: DockerTask, ref: str) -> Json:
    container_id = container_ops.owned(self.rt, ref).id
    return dump(engine_stats.sample(self.rt.docker, container_id, self.rt.host))


@app.task(name=TaskNames.INSPECT, base=DockerTask, bind=True)
def inspect(self: DockerTask, ref: str) -> Json:
    return dump(container_ops.inspect(self.rt, ref))


@app.task(name=TaskNames.LIST, base=DockerTask, bind=True)
def list_(self: DockerTask, query: Json | None = None) -> list[Json]:
    return dump_all(container_ops.list_containers(self.rt, parse(ContainerFilter, query or {})))


@app.task(name=TaskNames.BATCH, base=DockerTask, bind=True)
def batch(self: DockerTask, action: str, query: Json, timeout: int | None = None) -> list[Json]:
    if action not in ("stop", "restart", "remove"):
        raise InvalidSpec(f"action: {action!r} is not stop, restart or remove")
    outcomes = container_ops.batch(self.rt, action, parse(ContainerFilter, query), timeout)  # type: ignore[arg-type]
    return dump_all(outcomes)
