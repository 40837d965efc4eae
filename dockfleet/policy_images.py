"""The image rules for every way an image name comes to exist on a host: pull, build, tag.

- A name a build or a tag produces must match ``allowed_images`` (when set), as a
  pulled or run one must, and must not match a cleanup pin (``image_pins``): pinned
  names are the fleet's trusted bases, and building or tagging over one would hand
  every job that uses it the builder's image (``if-not-present`` takes what is there).
- A build's bases (every ``FROM`` of its Dockerfile, build arguments substituted)
  must match ``allowed_images`` too; one that cannot be read (a remote context the
  engine fetches, a base named by an argument nobody gave) is refused while a list
  is set.
- Builds run their ``RUN`` steps as root with the engine's default privileges, so
  they need ``allow_builds``, or an engine whose root is not the host's (the worker
  decides that part: `worker.ops.build_ops`).
"""

from __future__ import annotations

import fnmatch
import re
import shlex

from dockfleet.errors import PolicyViolation
from dockfleet.policy import check_image_reference
from dockfleet.policy_model import SecurityPolicy

#: ``FROM [--platform=...] image [AS name]`` (instructions are case-insensitive)
_FROM = re.compile(r"^\s*FROM\s+(?P<rest>.+)$", re.IGNORECASE)
_ARG = re.compile(r"^\s*ARG\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:=(?P<value>\S*))?", re.I)
_COPY_FROM = re.compile(r"^\s*COPY\s+.*--from=(?P<source>\S+)", re.IGNORECASE)
_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<bare>[A-Za-z_]\w*))")


def check_produced_name(reference: str, policy: SecurityPolicy, pins: list[str]) -> None:
    """Refuse a build or tag target outside the allow-list or over a pinned name."""
    check_image_reference(reference, policy)
    full = reference if ":" in reference.rsplit("/", 1)[-1] else f"{reference}:latest"
    for pin in pins:
        if fnmatch.fnmatchcase(full, pin) or fnmatch.fnmatchcase(reference, pin):
            raise PolicyViolation(
                "image-pin",
                reference,
                f"it is pinned ({pin!r} in DOCKFLEET_CLEANUP__IMAGE_PINS): a build or tag "
                "must not replace a pinned image",
            )


def check_bases(dockerfile: str | None, build_args: dict[str, str], policy: SecurityPolicy) -> None:
    """Refuse a build whose base images the allow-list does not cover.

    `dockerfile` is None when it cannot be read (a remote context): refused while an
    allow-list is set, since its bases could be anything.
    """
    if not policy.allowed_images:
        return
    if dockerfile is None:
        raise PolicyViolation(
            "build-base",
            "a remote build context",
            "its Dockerfile cannot be checked against DOCKFLEET_POLICY__ALLOWED_IMAGES: "
            "upload the context instead",
        )
    for base in dockerfile_bases(dockerfile, build_args):
        check_image_reference(base, policy)


def dockerfile_bases(dockerfile: str, build_args: dict[str, str]) -> list[str]:
    """The images a Dockerfile builds from or copies from (``COPY --from=image``); stage
    names, stage numbers and ``scratch`` left out.

    Raises:
        PolicyViolation: a base names a build argument without a value.
    """
    text = re.sub(r"\\\r?\n", " ", dockerfile)  # line continuations
    defaults: dict[str, str] = {}
    stages: set[str] = set()
    bases = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        arg = _ARG.match(line)
        if arg and not stages and arg.group("value") is not None:
            defaults[arg.group("name")] = arg.group("value").strip("\"'")
            continue
        copied = _COPY_FROM.match(line)
        if copied:
            source = _substitute(copied.group("source"), {**defaults, **build_args})
            if source.lower() not in stages and not source.isdigit():
                bases.append(source)
            continue
        found = _FROM.match(line)
        if not found:
            continue
        words = [w for w in shlex.split(found.group("rest")) if not w.startswith("--")]
        if not words:
            continue
        image = _substitute(words[0], {**defaults, **build_args})
        # Only an earlier stage can be built from: `FROM x AS x` pulls the image x.
        if image.lower() not in stages and image != "scratch":
            bases.append(image)
        if len(words) >= 3 and words[1].lower() == "as":
            stages.add(words[2].lower())
    return bases


def _substitute(word: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("bare")
        if name not in values:
            raise PolicyViolation(
                "build-base",
                f"FROM {word}",
                f"the build argument {name} has no value, so the base cannot be checked",
            )
        return values[name]

    return _VARIABLE.sub(value, word)
