"""Tasks ``dockfleet.networks.*``: one view per network operation."""

from __future__ import annotations

from typing import Any

from dockfleet.models import NetworkFilter, NetworkOptions
from dockfleet.queues import TaskNames
from dockfleet.validation import parse
from tasks.base import DockerTask, dump, dump_all
from worker.app import app
from worker.ops import network_ops

Json = dict[str, Any]


@app.task(name=TaskNames.NETWORK_CREATE, base=DockerTask, bind=True)
def create(self: DockerTask, name: str, options: Json | None = None) -> Json:
    return dump(network_ops.create(self.rt, name, parse(NetworkOptions, options or {})))


@app.task(name=TaskNames.NETWORK_REMOVE, base=DockerTask, bind=True)
def remove(self: DockerTask, ref: str) -> Json:
    return dump(network_ops.remove(self.rt, ref))


@app.task(name=TaskNames.NETWORK_CONNECT, base=DockerTask, bind=True)
def connect(
    self: DockerTask,
    network: str,
    container: str,
    aliases: list[str] | None = None,
    ipv4_address: str | None = None,
) -> Json:
    return dump(network_ops.connect(self.rt, network, container, aliases or [], ipv4_address))


@app.task(name=TaskNames.NETWORK_DISCONNECT, base=DockerTask, bind=True)
def disconnect(self: DockerTask, network: str, container: str, force: bool = False) -> Json:
    return dump(network_ops.disconnect(self.rt, network, container, force=force))


@app.task(name=TaskNames.NETWORK_INSPECT, base=DockerTask, bind=True)
def inspect(self: DockerTask, ref: str) -> Json:
    return dump(network_ops.inspect(self.rt, ref))


@app.task(name=TaskNames.NETWORK_LIST, base=DockerTask, bind=True)
def list_(self: DockerTask, query: Json | None = None) -> list[Json]:
    return dump_all(network_ops.list_networks(self.rt, parse(NetworkFilter, query or {})))
