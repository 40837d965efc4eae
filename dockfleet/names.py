"""The fleet's own namespace: label keys, object names and ids that only the fleet writes.

A redelivered task finds what an earlier delivery made by its name or its
request label, and cleanup, reconcile and adoption read the ``dockfleet.*``
labels; so none of these may be chosen by a user:

- a user label key never starts with ``dockfleet.`` (in any case);
- a user container or network name never starts with ``dfj-`` (jobs) or
  ``dfp-`` (pooled job networks), in any case;
- a user request id has no ``/``, so it never equals a job runner's
  (``<job>/job``, ``<job>/<alias>``);
- a job's cache volume is ``dfc-<key>`` (`cache_volume`): the fleet labels it
  ``dockfleet.cache=<key>`` and reads that label, not the name, to know it as its own;
- no two (job, alias) pairs give one container name: a job id has no ``--``
  and does not end with ``-``, so in ``dfj-<job>--svc-<alias>`` the first
  ``--`` ends the job id, and a job's own container ``dfj-<job>`` has no
  ``--`` at all (the service probe's ``dfj-<job>--probe-<alias>`` differs
  from a service's by the word after the ``--``).
"""

from __future__ import annotations

import re

JOB_PREFIX = "dfj-"
POOL_PREFIX = "dfp-"
CACHE_PREFIX = "dfc-"
RESERVED_NAME_PREFIXES = (JOB_PREFIX, POOL_PREFIX)
RESERVED_LABEL_PREFIX = "dockfleet."
SERVICE_SEPARATOR = "--svc-"
JOB_ID_RE = re.compile(r"^(?!.*--)[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}(?<!-)$")
REQUEST_ID_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$")
#: a cache key: DNS-like (a volume name once prefixed), no '/', no '..'
CACHE_KEY_RE = re.compile(r"^(?!.*\.\.)[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")


def object_name(job_id: str, alias: str | None = None) -> str:
    """The name of a job's container (or of its service `alias`), and of its own network."""
    return f"{JOB_PREFIX}{job_id}" + (f"{SERVICE_SEPARATOR}{alias}" if alias else "")


def is_reserved_name(name: str) -> bool:
    """Whether a container or network name is of the fleet's own kinds (dfj-, dfp-)."""
    return name.strip().lstrip("/").lower().startswith(RESERVED_NAME_PREFIXES)


def is_reserved_label(key: str) -> bool:
    return key.strip().lower().startswith(RESERVED_LABEL_PREFIX)


def check_user_labels(value: dict[str, str]) -> dict[str, str]:
    """Refuse label keys the fleet reserves for the labels it reads."""
    for key in value:
        if not key or is_reserved_label(key):
            raise ValueError(f"label {key!r}: keys starting with 'dockfleet.' are reserved")
    return value


def check_job_id(value: str) -> str:
    return _matching(JOB_ID_RE, value, ", without '--' and not ending with '-'")


def check_request_id(value: str) -> str:
    return _matching(REQUEST_ID_RE, value, "; ids with '/' are the job runner's")


def check_cache_key(value: str) -> str:
    """A cache key as a user gives it: one name, never a path (it names a volume)."""
    return _matching(CACHE_KEY_RE, value, ", without '/' or '..' (a name, not a path)", 63)


def cache_volume(key: str) -> str:
    """The name of the volume that holds cache `key` on each host."""
    return CACHE_PREFIX + check_cache_key(key)


def _matching(pattern: re.Pattern[str], value: str, rest: str, most: int = 64) -> str:
    if not pattern.match(value):
        raise ValueError(f"must be letters, digits, '.', '_' or '-' (at most {most}){rest}")
    return value
