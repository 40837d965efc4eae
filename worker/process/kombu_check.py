"""The kombu release the broker transport and the consumer watchdog were tested with.

Both reach into kombu's private methods (`broker.Channel._brpop_read`,
``_connparams``; the consumer's event loop), which a kombu release may rename or
change without notice. pyproject.toml pins kombu and celery to the tested minor;
a worker that runs another kombu anyway (an install that ignored the pin) says so
loudly at start, since a changed private method fails in ways that look unrelated.
"""

from __future__ import annotations

import logging
import re
from importlib.metadata import version as installed_version

log = logging.getLogger(__name__)

#: the kombu (and celery) minor release the overrides were tested with; pyproject.toml
#: pins the same (a unit test holds the two together)
TESTED_MINOR = (5, 7)


def tested_range() -> str:
    major, minor = TESTED_MINOR
    return f">={major}.{minor},<{major}.{minor + 1}"


def is_tested(version: str) -> bool:
    """Whether `version` ("5.7.0", "5.7.1rc1") is of the tested minor release."""
    match = re.match(r"(\d+)\.(\d+)", version)
    return match is not None and (int(match[1]), int(match[2])) == TESTED_MINOR


def warn_if_untested(module: str, version: str | None = None) -> bool:
    """Log a warning naming `module` and the tested range when the installed kombu (or
    `version`) is another release; whether it did."""
    version = version or installed_version("kombu")
    if is_tested(version):
        return False
    log.warning(
        "%s overrides private methods of kombu and was tested with kombu %s only; "
        "kombu %s is installed: broker connections and the consumer may misbehave. "
        "Install the kombu pyproject.toml pins.",
        module,
        tested_range(),
        version,
    )
    return True
