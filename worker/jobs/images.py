"""The job's images, made present according to its pull policy."""

from __future__ import annotations

from dockfleet.errors import ImageNotFound
from dockfleet.models.jobs import PullPolicy
from worker.engine import images
from worker.runtime import Runtime


def ensure(rt: Runtime, reference: str, policy: PullPolicy) -> None:
    """Pull `reference` when the policy asks for it; ``never`` requires it present."""
    if policy == "always" or not images.exists(rt.docker, reference):
        if policy == "never":
            raise ImageNotFound(reference, rt.host)
        for _ in images.pull(rt.docker, reference):
            pass
