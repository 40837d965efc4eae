"""The README's configuration table, made from `Settings` so that it cannot drift.

``python -m dockfleet.settings_table --write README.md`` rewrites the table
between its markers; a unit test fails when the README's table differs from
what this makes, or when a setting has no description.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from dockfleet.settings import Settings
from dockfleet.settings_names import PREFIX, leaves

START = "<!-- settings-table:start (python -m dockfleet.settings_table --write README.md) -->"
END = "<!-- settings-table:end -->"

#: defaults that depend on the machine, said in words
MACHINE_DEFAULTS = {
    "DOCKFLEET_HOST_NAME": "this machine's short host name",
    "DOCKFLEET_STATE_DIR": "`$XDG_STATE_HOME/dockfleet`, else `~/.local/state/dockfleet`",
    "DOCKFLEET_SECRETS_DIR": "`/run/secrets` where it exists, else unset",
}

#: what a setting is for, where its field says no more than its unit
DESCRIPTIONS = {
    "DOCKFLEET_DOCKER_HOST": "the Docker engine a worker serves (unset: `DOCKER_HOST`)",
    "DOCKFLEET_API_VERSION": "`auto` (asked of the engine) or pinned (unset: `DOCKER_API_VERSION`)",
    "DOCKFLEET_TLS_CERT": "client certificate of a TLS engine (unset: `DOCKER_CERT_PATH`/cert.pem)",
    "DOCKFLEET_TLS_KEY": "its key (unset: `DOCKER_CERT_PATH`/key.pem)",
    "DOCKFLEET_TLS_CA_CERT": "CA of the engine's certificate (unset: `DOCKER_CERT_PATH`/ca.pem)",
    "DOCKFLEET_TLS_VERIFY": "check the engine's certificate (not with `DOCKER_CERT_PATH` alone)",
    "DOCKFLEET_MAX_CONTAINERS": "fleet containers per host, enforced across workers",
    "DOCKFLEET_DEFAULT_TIMEOUT": "seconds a call waits for its worker; the stop grace",
    "DOCKFLEET_CLEANUP_INTERVAL": "seconds between cleanups (beat)",
    "DOCKFLEET_STATS_INTERVAL": "seconds between stats samples (beat)",
    "DOCKFLEET_ENABLE_MONITORING": "beat samples stats",
    "DOCKFLEET_ENABLE_AUTO_CLEANUP": "beat runs cleanup",
    "DOCKFLEET_ENABLE_RECONCILE": "beat runs reconcile",
    "DOCKFLEET_RECONCILE_INTERVAL": "seconds between reconciles (beat)",
    "DOCKFLEET_STATS_MODE": "`auto` (cgroup files when visible), `cgroup` or `api`",
    "DOCKFLEET_CGROUP_ROOT": "where a worker reads cgroup files",
    "DOCKFLEET_REDIS_URL": "broker, results and state (`dockfleet up` sets it for its fleet)",
    "DOCKFLEET_HOST_NAME": "the Docker host a worker serves (its queue's name)",
    "DOCKFLEET_HEARTBEAT_INTERVAL": "seconds between heartbeats; 3 missed = host down",
    "DOCKFLEET_WORKER_CONCURRENCY": "tasks a worker runs at once",
    "DOCKFLEET_WORKER_POOL": "`threads` (~57 MB RSS), `prefork` (~155 MB) or `solo`",
    "DOCKFLEET_LOG_FORMAT": "`text`, or `json` lines with event, host and job fields",
    "DOCKFLEET_SECRETS_DIR": "folder of secret files, one a setting, named like the variable "
    "(`dockfleet_redis_url`); read last, after the env file",
    "DOCKFLEET_RETENTION__RESULTS_SECONDS": "how long results stay in Redis",
    "DOCKFLEET_RETENTION__LOGS_SECONDS": "how long job logs stay in Redis",
    "DOCKFLEET_RETENTION__STATS_SAMPLES_PER_CONTAINER": "stats history per container",
    "DOCKFLEET_RETENTION__STATS_SECONDS": "stats of a gone container expire after",
    "DOCKFLEET_RETENTION__MAINTENANCE_REPORTS": "cleanup/reconcile reports kept per host",
    "DOCKFLEET_CLEANUP__CONTAINER_GRACE": "seconds a fleet container stays stopped",
    "DOCKFLEET_CLEANUP__NETWORK_GRACE": "seconds an empty fleet network stays",
    "DOCKFLEET_CLEANUP__IMAGE_MIN_AGE": "seconds before a fleet image may be removed",
    "DOCKFLEET_CLEANUP__IMAGE_HIGH_WATERMARK": "disk % that starts image eviction",
    "DOCKFLEET_CLEANUP__IMAGE_LOW_WATERMARK": "disk % where eviction stops",
    "DOCKFLEET_CLEANUP__IMAGE_BUDGET_BYTES": "count image layers against this size (bytes, or "
    "50g), not the disk",
    "DOCKFLEET_CLEANUP__IMAGE_PINS": "image patterns never removed (`a,b` or a JSON list)",
    "DOCKFLEET_CLEANUP__ORPHAN_GRACE": "seconds before a dead job's objects are reaped",
    "DOCKFLEET_POLICY__ALLOW_PRIVILEGED": "allow privileged containers",
    "DOCKFLEET_POLICY__ALLOW_ROOT": "allow `--user root`",
    "DOCKFLEET_POLICY__ALLOW_HOST_NETWORK": "allow the host network",
    "DOCKFLEET_POLICY__ALLOWED_CAPABILITIES": "what `cap_add` may add (all else dropped)",
    "DOCKFLEET_POLICY__DEFAULT_USER": "user of a container that names none",
    "DOCKFLEET_POLICY__DEFAULT_PIDS_LIMIT": "pids limit of a container that sets none",
    "DOCKFLEET_POLICY__MAX_PIDS_LIMIT": "highest pids limit a spec may ask",
    "DOCKFLEET_POLICY__MAX_MEMORY": "highest memory limit (bytes, or 2g), and the limit of a "
    "spec that sets none (unset: no cap)",
    "DOCKFLEET_POLICY__MAX_CPUS": "highest CPU limit (cores, at least 0.01), and the limit of a "
    "spec that sets none (unset: no cap)",
    "DOCKFLEET_IMAGES__PULL_TIMEOUT": "seconds a pull may take",
    "DOCKFLEET_IMAGES__BUILD_TIMEOUT": "seconds a build may take",
    "DOCKFLEET_IMAGES__UPLOAD_TTL": "seconds an uploaded build context waits",
    "DOCKFLEET_IMAGES__UPLOAD_MAX_BYTES": "largest build context upload (bytes, or 64m)",
    "DOCKFLEET_REGISTRY_AUTH": "registry -> credentials for workers (JSON)",
}


def rows(model: type[BaseModel] = Settings, prefix: str = PREFIX) -> list[tuple[str, str, str]]:
    """(variable, default, description) of every setting, nested models flattened with __."""
    return [
        (
            leaf.env,
            _default(leaf.env, leaf.field),
            DESCRIPTIONS.get(leaf.env) or leaf.field.description or "",
        )
        for leaf in leaves(model, prefix)
    ]


def _default(env: str, field: FieldInfo) -> str:
    if env in MACHINE_DEFAULTS:
        return MACHINE_DEFAULTS[env]
    value: Any = field.default
    if value is PydanticUndefined and field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list | dict):
        return f"`{json.dumps(value)}`"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`"


def markdown() -> str:
    lines = [START, "| variable | default | what it is |", "| --- | --- | --- |"]
    lines += [f"| `{env}` | {default} | {text} |" for env, default, text in rows()]
    return "\n".join([*lines, END])


def replace_in(text: str) -> str:
    """`text` with the block between the markers replaced by the current table."""
    head, found, rest = text.partition(START)
    if not found:
        raise ValueError("no settings-table start marker")
    _, found, tail = rest.partition(END)
    if not found:
        raise ValueError("no settings-table end marker")
    return head + markdown() + tail


def main(argv: list[str]) -> None:
    if len(argv) == 2 and argv[0] == "--write":
        path = Path(argv[1])
        path.write_text(replace_in(path.read_text()))
    else:
        sys.stdout.write(markdown() + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
