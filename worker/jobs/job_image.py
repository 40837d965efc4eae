"""The job's images, made present according to its pull policy."""

from __future__ import annotations

from dockfleet.errors import EngineError, ImageNotFound, PolicyViolation, RegistryAuthError
from dockfleet.models import ImageInfo
from dockfleet.models.jobs import PullPolicy
from worker.engine import images
from worker.engine.errors import translate
from worker.ops import image_ops
from worker.runtime import Runtime


def ensure(rt: Runtime, reference: str, policy: PullPolicy) -> ImageInfo:
    """Pull `reference` when the policy asks for it (``never`` requires it present).

    The pull is the fleet's single-flight one: jobs of one host that need the
    same new image wait for one pull instead of each starting their own.
    """
    if policy != "always":
        present = images.inspect_if_present(rt.docker, reference, rt.host)
        if present is not None:
            return present
    if policy == "never":
        raise ImageNotFound(reference, rt.host)
    try:
        return image_ops.pull(rt, reference)
    except (ImageNotFound, RegistryAuthError, PolicyViolation):
        raise
    except Exception as exc:
        error = translate(exc, rt.host) or exc
        # Name the image: "pull failed" alone does not tell a pipeline what to fix.
        raise EngineError(f"pulling {reference} on host {rt.host!r} failed: {error}") from exc
