"""The baselines: the same Docker work done straight with docker-py, no fleet in between.

A direct container gets the very create body the fleet sends (its security
defaults included: cap-drop ALL, no-new-privileges, pids limit, non-root
user with its tmpfs home, as busybox:local runs as root), so a ratio measures the
fleet's path, not different engine work.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import docker

from dockfleet.models import ContainerConfig
from dockfleet.policy_model import SecurityPolicy
from worker.engine.convert import create_arguments
from worker.ops.users import DEFAULT_HOME

IMAGE, TAG = "busybox", "local"


def config(cmd: list[str], network: str | None = None) -> ContainerConfig:
    return ContainerConfig(image=IMAGE, tag=TAG, cmd=cmd, network=network)


def create_body(cmd: list[str], labels: dict[str, str], network: str | None = None) -> Any:
    """Keyword arguments of ``APIClient.create_container``, as the fleet builds them."""
    policy = SecurityPolicy()
    return create_arguments(
        config(cmd, network), policy, labels, user=policy.default_user, home=DEFAULT_HOME
    )


def run_job(
    api: docker.APIClient,
    labels: dict[str, str],
    network: bool = False,
    steps: dict[str, list[float]] | None = None,
    on_network: str | None = None,
) -> None:
    """A trivial job by hand: (network), create, start, wait, logs, remove, (network rm).

    `on_network` attaches the container to a network that exists already (the
    engine's own cost of a user-defined network, with no create or remove of it).
    With `steps`, each step's time in ms is appended to ``steps[name]``.
    """
    clock = _Clock(steps)
    net = None
    if network:
        net = f"bench-net-{secrets.token_hex(4)}"
        clock.step("network create", lambda: api.create_network(net, labels=labels))
    body = create_body(["true"], labels, net or on_network)
    container = clock.step("create", lambda: api.create_container(**body))["Id"]
    clock.step("start", lambda: api.start(container))
    clock.step("wait", lambda: api.wait(container))
    clock.step("logs", lambda: api.logs(container))
    clock.step("remove", lambda: api.remove_container(container, v=True, force=True))
    if net:
        clock.step("network remove", lambda: api.remove_network(net))


class _Clock:
    def __init__(self, steps: dict[str, list[float]] | None) -> None:
        self.steps = steps

    def step(self, name: str, action: Any) -> Any:
        started = time.perf_counter()
        result = action()
        if self.steps is not None:
            self.steps.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        return result
