"""Ownership labels (contract) carried by everything the fleet creates."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

MANAGED = "dockfleet.managed"
HOST = "dockfleet.host"
JOB = "dockfleet.job"
CREATED = "dockfleet.created"
REQUEST = "dockfleet.request"
SECRET_ENV = "dockfleet.secret-env"
#: on a pooled job network: the host whose pool it belongs to (cleanup leaves it alone)
POOL = "dockfleet.pool"
#: on a job cache's volume: its key (the volume is shared by every job of the host naming it)
CACHE = "dockfleet.cache"
#: ISO time after which reconcile stops and removes the container (its max lifetime)
DEADLINE = "dockfleet.deadline"


def ownership(
    host: str,
    *,
    job: str | None = None,
    request: str | None = None,
    max_lifetime: float | None = None,
) -> dict[str, str]:
    """The labels that mark an object as the fleet's, made on `host`."""
    now = datetime.now(UTC)
    labels = {
        MANAGED: "true",
        HOST: host,
        CREATED: now.isoformat(timespec="seconds"),
    }
    if max_lifetime:
        labels[DEADLINE] = (now + timedelta(seconds=max_lifetime)).isoformat(timespec="seconds")
    if job:
        labels[JOB] = job
    if request:
        labels[REQUEST] = request
    return labels


def secret_env_label(names: Iterable[str]) -> str:
    """The `SECRET_ENV` label's value: the names as a JSON list (a name may hold a comma)."""
    return json.dumps(sorted(names), ensure_ascii=False)


def secret_env_keys(labels: dict[str, str] | None) -> set[str]:
    """Names of the env variables whose values the fleet masks on this container."""
    value = (labels or {}).get(SECRET_ENV, "")
    if value.startswith("["):
        try:
            names = json.loads(value)
        except ValueError:
            names = None
        if isinstance(names, list):
            return {name for name in names if isinstance(name, str) and name}
    # Containers made before the JSON form: names joined by commas.
    return set(filter(None, value.split(",")))


def is_managed(labels: dict[str, str] | None) -> bool:
    return bool(labels) and (labels or {}).get(MANAGED) == "true"
