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
image's. Image ids are content addresses, so a resolution is cached per image id.
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
    key = (image.id, name)
    with _lock:
        if key in _cache:
            return _cache[key]
    uid = _passwd_uids(rt, image.id).get(name)
    with _lock:
        _cache[key] = uid
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return uid


def _passwd_uids(rt: Runtime, image_id: str) -> dict[str, int]:
    """name -> uid from the image's /etc/passwd (empty when it has none)."""
    text = engine.read_image_file(rt.docker, image_id, "/etc/passwd", host=rt.host) or b""
    uids: dict[str, int] = {}
    for line in text.decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        if len(fields) >= 3 and fields[2].isdigit():
            uids.setdefault(fields[0], int(fields[2]))
    return uids


_lock = threading.Lock()
_cache: OrderedDict[tuple[str, str], int | None] = OrderedDict()
