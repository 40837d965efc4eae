"""Where a variable's value comes from when it is not on the command line: the caller's
environment, a docker env file, or a secret file (read on the producer, before sending).

One implementation serves ``-e KEY``, ``--secret-env KEY``, ``--env-file``,
``--secret-env-file`` and a job file's ``{from_env: NAME}`` / ``{from_file: PATH}``.
No error here quotes a value or a line of a file: either may be a secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from dockfleet.errors import InvalidSpec

#: what may not stand in a variable's name in an env file (docker's rule)
_BLANKS = " \t"
#: a name as variables are usually named: only such a name is quoted in an error (another
#: may be a value given where a name was expected: ``--secret-env $TOKEN``, a lone line)
_QUOTABLE_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def from_environment(name: str, environ: Mapping[str, str], where: str) -> str:
    """The value of the caller's variable `name`.

    Raises:
        InvalidSpec: naming `where` when the variable is not set (an empty one is a value).
    """
    try:
        return environ[name]
    except KeyError:
        if _QUOTABLE_NAME.match(name):
            raise InvalidSpec(f"{where}: environment variable {name} is not set") from None
        raise InvalidSpec(
            f"{where}: the environment variable it names is not set (the name is not shown: "
            "it is not written as names usually are, and may be a value)"
        ) from None


def assignment(item: str, environ: Mapping[str, str], flag: str) -> tuple[str, str]:
    """``KEY=VALUE`` as (KEY, VALUE); a bare ``KEY`` takes its value from `environ`,
    as ``docker run -e KEY`` does, so that a secret never has to be written in argv."""
    key, sep, value = item.partition("=")
    if not key:
        raise InvalidSpec(f"{flag}: a variable needs a name (KEY=VALUE, or KEY alone)")
    if sep:
        return key, value
    where = f"{flag} {key}" if _QUOTABLE_NAME.match(key) else flag
    return key, from_environment(key, environ, where)


def read_env_file(
    path: str | Path, environ: Mapping[str, str], flag: str = "--env-file"
) -> list[tuple[str, str]]:
    """The variables of a docker env file, in order, as ``docker run --env-file`` reads it.

    One ``KEY=VALUE`` a line, the value kept as written (quotes and trailing blanks
    included: docker strips neither, nor expands anything); leading blanks, blank lines and
    lines starting with ``#`` are skipped. A bare ``KEY`` line takes the value of the
    caller's variable; where docker silently drops an unset one, this refuses it, since a
    CI variable that is missing is nearly always a mistake.

    Raises:
        InvalidSpec: naming the file and line (never quoting it).
    """
    text = read_text(path, flag).removeprefix("\ufeff")
    pairs = []
    # Lines end at "\n" only (a "\r" before it is dropped), as Go's line scanner does.
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r").lstrip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        where = f"{path}:{number}"
        if not key or any(c in _BLANKS for c in key):
            raise InvalidSpec(f"{where}: not KEY=VALUE (a variable name has no blanks)")
        pairs.append((key, value) if sep else (key, from_environment(key, environ, where)))
    return pairs


def read_secret_file(path: str | Path, where: str) -> str:
    """A secret file's text without one trailing newline (Docker and Kubernetes mount
    secrets as such files; ``echo`` and editors add the newline)."""
    text = read_text(path, where)
    if text.endswith("\n"):
        text = text[:-1].removesuffix("\r")
    return text


def read_text(path: str | Path, where: str) -> str:
    """A UTF-8 file's text; `InvalidSpec` naming `where` when it cannot be read."""
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidSpec(f"{where}: {path} is not UTF-8 text") from None
    except OSError as exc:
        raise InvalidSpec(f"{where}: cannot read {path}: {exc.strerror or exc}") from None
