"""Tasks ``dockfleet.system.*``: facts about the Docker host a worker serves."""

from __future__ import annotations

from typing import Any

from dockfleet.queues import TaskNames
from tasks.base import DockerTask, dump
from worker.app import app
from worker.engine import system as engine_system
from worker.ops import container_ops


@app.task(name=TaskNames.INFO, base=DockerTask, bind=True)
def info(self: DockerTask) -> dict[str, Any]:
    rt = self.rt
    result = engine_system.info(rt.docker, rt.host)
    result.fleet_containers = len(container_ops.fleet_summaries(rt))
    result.max_containers = rt.settings.max_containers
    return dump(result)


@app.task(name=TaskNames.PING, base=DockerTask, bind=True)
def ping(self: DockerTask) -> dict[str, Any]:
    return dump(engine_system.ping(self.rt.docker, self.rt.host))


@app.task(name=TaskNames.DF, base=DockerTask, bind=True)
def df(self: DockerTask) -> dict[str, Any]:
    return dump(engine_system.disk_usage(self.rt.docker, self.rt.host))
