"""The job's images, made present according to its pull policy."""

from __future__ import annotations

from dockfleet.errors import EngineError, ImageNotFound
from dockfleet.models.jobs import PullPolicy
from worker.engine import images
from worker.engine.errors import translate
from worker.runtime import Runtime


def ensure(rt: Runtime, reference: str, policy: PullPolicy) -> None:
    """Pull `reference` when the policy asks for it; ``never`` requires it present."""
    if policy != "always" and images.exists(rt.docker, reference):
        return
    if policy == "never":
        raise ImageNotFound(reference, rt.host)
    try:
        for _ in images.pull(rt.docker, reference):
            pass
    except Exception as exc:
        error = translate(exc, rt.host)
        if error is None or isinstance(error, ImageNotFound):
            raise
        # Name the image: "pull failed" alone does not tell a pipeline what to fix.
        raise EngineError(f"pulling {reference} on host {rt.host!r} failed: {error}") from exc
