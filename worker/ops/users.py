"""Who a fleet container runs as, judged on the uid the engine will resolve.

- A spec's own ``user`` is kept; it may be uid 0 only where the policy allows root.
- Else the image's own ``USER``, when it is not root (stock CI images that set one).
- Else (the image runs as root) root is kept only where it is not the host's root: an
  engine that remaps users (``userns-remap``) or runs rootless, or a policy that allows it.
- Else the policy's non-root default, with a writable ``HOME`` (a tmpfs), since that
  user has no home in the image and CI tools write to ``$HOME``.

A user *name* is resolved through the image's own ``/etc/passwd``, as the engine does
at start, so a name that maps to uid 0 is root whatever it is called. A number is read
as the engine reads it (``00``, ``+0``, ``-0`` are 0), and an empty user part (``:0``,
``:1000``) is uid 0: the engine starts from uid 0, and the spec's ``User`` replaces the
image's. Image ids are content addresses, so the image's /etc/passwd (and /etc/group)
is read once per image id. `owner_ids` says who owns what the fleet puts in a container.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from dockfleet.errors import ImageNotFound, PolicyViolation
from dockfleet.models import ContainerConfig, ImageInfo
from dockfleet.policy import numeric_uid
from worker.engine import containers as engine
from worker.runtime import Runtime

#: the writable home of the policy's default user
DEFAULT_HOME = "/home/dockfleet"
PASSWD, GROUP = "/etc/passwd", "/etc/group"
_CACHE_SIZE = 512


@dataclass(frozen=True)
class RunAs:
    """What the container is created with."""

    #: the ``User`` given to the engine; None keeps the image's own USER
    user: str | None
    #: a tmpfs mounted here and set as ``HOME``, owned by `user`
    home: str | None = None


def run_as(rt: Runtime, config: ContainerConfig, image: ImageInfo | None) -> RunAs:
    """Who `config` runs as on this host (`image` is its image, when present here).

    Raises:
        PolicyViolation: the spec's user resolves to uid 0 and root is not allowed, or
            names a user the image does not know (the engine could not resolve it either).
        ImageNotFound: `image` is None; judged now, since an image that appears before
            the create could resolve a name to uid 0.
    """
    policy = rt.settings.policy
    root_allowed = policy.allow_root
    if image is None:
        raise ImageNotFound(config.reference, rt.host)
    if config.user:
        name = config.user.partition(":")[0]
        # "" (as in ":0") is uid 0 to the engine, whatever the image's own USER.
        uid = uid_of(rt, image, name) if name else 0
        if uid is None:
            raise PolicyViolation(
                "unknown-user", f"user={config.user}", "the image's /etc/passwd has no such user"
            )
        if uid == 0 and not root_allowed:
            raise PolicyViolation(
                "root-user",
                f"user={config.user}",
                "it runs as uid 0; set DOCKFLEET_POLICY__ALLOW_ROOT=true to allow root",
            )
        return RunAs(config.user)
    uid = image_uid(rt, image)
    if (uid is not None and uid != 0) or root_allowed or rt.engine_facts.remaps_root:
        return RunAs(None)
    # Root (or a name the image cannot resolve) on an engine whose root is the host's.
    if uid_of(rt, image, policy.default_user.partition(":")[0] or "0") == 0:
        raise PolicyViolation(
            "root-user",
            f"default_user={policy.default_user}",
            "it runs as uid 0 in this image; set DOCKFLEET_POLICY__DEFAULT_USER to a non-root user",
        )
    has_home = any(item.partition("=")[0] == "HOME" for item in config.env)
    taken = has_home or DEFAULT_HOME in config.tmpfs
    return RunAs(policy.default_user, home=None if taken else DEFAULT_HOME)


def image_uid(rt: Runtime, image: ImageInfo | None) -> int | None:
    """The uid the image's own USER resolves to (0 for an image without one)."""
    if image is None:
        return None
    return uid_of(rt, image, image.user.partition(":")[0] or "0")


def uid_of(rt: Runtime, image: ImageInfo | None, name: str) -> int | None:
    """The uid `name` resolves to in `image` (None: not found; the engine refuses it)."""
    uid = numeric_uid(name)
    if uid is not None:
        return uid
    if image is None:
        return None
    entry = _table(rt, image.id, PASSWD).get(name)
    return entry[0] if entry else None


def owner_ids(rt: Runtime, config: ContainerConfig, image: ImageInfo) -> tuple[int, int]:
    """The uid and gid the engine starts `config`'s process with, as `run_as` decides it:
    who owns what the fleet puts into the container for it (a job's workspace).

    The gid is the user's group when one is given (``user:group``), else the primary group
    of the user's line in the image's /etc/passwd, else 0 (as the engine does).

    Raises:
        PolicyViolation: a user or group the image does not know (the engine refuses it).
    """
    user = run_as(rt, config, image).user
    name, _, group = (image.user if user is None else user).partition(":")
    name = name or "0"
    uid = uid_of(rt, image, name)
    if uid is None:
        raise PolicyViolation(
            "unknown-user", f"user={name}", "the image's /etc/passwd has no such user"
        )
    if group:
        gid = numeric_uid(group)
        if gid is None:
            found = _table(rt, image.id, GROUP).get(group)
            if found is None:
                raise PolicyViolation(
                    "unknown-group", f"group={group}", "the image's /etc/group has no such group"
                )
            gid = found[0]
        return uid, gid
    by_name = _table(rt, image.id, PASSWD).get(name) if numeric_uid(name) is None else None
    entry = by_name or next((e for e in _table(rt, image.id, PASSWD).values() if e[0] == uid), None)
    return uid, entry[1] if entry else 0


def _table(rt: Runtime, image_id: str, path: str) -> dict[str, tuple[int, int]]:
    """name -> (third field, fourth field) of the image's /etc/passwd or /etc/group (uid
    and gid, or gid): empty when the image has no such file. Cached per image id."""
    key = (image_id, path)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    text = engine.read_image_file(rt.docker, image_id, path, host=rt.host) or b""
    table: dict[str, tuple[int, int]] = {}
    for line in text.decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        if len(fields) >= 3 and fields[2].isdigit():
            second = fields[3] if len(fields) > 3 and fields[3].isdigit() else "0"
            table.setdefault(fields[0], (int(fields[2]), int(second)))
    with _lock:
        _cache[key] = table
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return table


_lock = threading.Lock()
_cache: OrderedDict[tuple[str, str], dict[str, tuple[int, int]]] = OrderedDict()
